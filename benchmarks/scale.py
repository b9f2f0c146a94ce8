"""Scale-out measurements (docs/scale.md): the Ray engine's build against the local one, and searching
through the Qdrant backend (local mode) against the local backend, on the same corpus.

``python -m benchmarks.scale [--passages N] [--runs R] [--out FILE.json]`` writes the corpus once
(the harness's synthetic articles, stand-in encoder), then alternates local and Ray builds R times,
each in a fresh process (so every Ray build pays for starting Ray, as a user's `qa build` does),
and times the same questions on a local-backend and a Qdrant-backend index of that corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.build import size_dir, static_model_dir
from benchmarks.data import article_stream, load_questions, write_corpus
from benchmarks.measure import memory, percentiles, run_worker, time_each
from benchmarks.query import _precomputed

BACKEND_MODES = ("lexical", "hybrid")


def _corpus(work: str, passages: int) -> Path:
    corpus_dir = size_dir(Path(work), passages) / "corpus"
    if not corpus_dir.is_dir():
        write_corpus(article_stream(passages), corpus_dir)
    return corpus_dir


def engine_build(work: str, passages: int, engine: str) -> dict[str, Any]:
    """Build the corpus folder of ``passages`` passages with ``engine`` ("local" or "ray": Ray started here)."""
    from qa.index.build import build_index
    from qa.index.raybuild import RaySettings

    root = size_dir(Path(work), passages)
    index_dir = root / f"engine-{engine}"
    shutil.rmtree(index_dir, ignore_errors=True)
    started = time.perf_counter()
    report = build_index(
        _corpus(work, passages),
        index_dir,
        model=str(static_model_dir(Path(work))),
        require_dense=True,
        ray=RaySettings() if engine == "ray" else None,
    )
    wall = time.perf_counter() - started
    return {
        "engine": engine,
        "passages": report.manifest.passages,
        "wall_seconds": round(wall, 2),
        "seconds": {name: round(value, 2) for name, value in report.seconds.items()},
        "memory": memory(),
    }


def _same_passages(work: str, passages: int) -> bool:
    root = size_dir(Path(work), passages)
    return (root / "engine-local" / "passages.jsonl").read_bytes() == (
        root / "engine-ray" / "passages.jsonl"
    ).read_bytes()


def backend_latency(work: str, passages: int, questions: int = 100, sparse: str = "idf") -> dict[str, Any]:
    """Time the same questions (encoded beforehand) on a local-backend and a Qdrant-backend (local mode)
    index of one corpus: ranking alone and the whole search (hits, citations, highlights)."""
    from qa.index.build import build_index
    from qa.index.qdrant import QdrantSettings
    from qa.search.retriever import Retriever, clean_question

    root = size_dir(Path(work), passages)
    # the local engine's last build is the local-backend index; the Qdrant one is built over a copy of it,
    # so it reuses the passage vectors instead of embedding the corpus again
    folders = {"local": root / "engine-local", "qdrant": root / "backend-qdrant"}
    shutil.rmtree(folders["qdrant"], ignore_errors=True)
    shutil.copytree(folders["local"], folders["qdrant"])
    qdrant = QdrantSettings(path=str(root / "qdrant-data"), collection="bench", sparse=sparse)
    started = time.perf_counter()
    report = build_index(
        _corpus(work, passages), folders["qdrant"], model=str(static_model_dir(Path(work))), qdrant=qdrant
    )
    result: dict[str, Any] = {
        "passages": passages,
        "questions": questions,
        "qdrant_sparse": sparse,
        "qdrant_build_seconds": round(time.perf_counter() - started, 2),
        "qdrant_vectors_reused": report.vectors_reused,
    }
    result["sparse_entries_per_passage"] = _sparse_entries(qdrant, report.manifest.qdrant.collection)
    asked = [clean_question(q)[0] for q in load_questions(limit=questions)]
    for name, folder in folders.items():
        retriever = Retriever.load(folder)
        assert retriever.encoder is not None
        retriever.encoder = _precomputed(retriever.encoder, asked, retriever.encoder.encode_queries(asked))
        entry: dict[str, Any] = {}
        for mode in BACKEND_MODES:
            rank = time_each(lambda q, r=retriever, mode=mode: r.rank_many([q], 10, mode=mode), asked)
            search = time_each(lambda q, r=retriever, mode=mode: r.search(q, 10, mode=mode), asked)
            entry[mode] = {"rank": percentiles(rank), "search": percentiles(search)}
        entry["top1_rows"] = {
            mode: [int(found[0]) if len(found) else -1 for found, _ in retriever.rank_many(asked, 10, mode=mode)]
            for mode in BACKEND_MODES
        }
        result[name] = entry
    for mode in BACKEND_MODES:  # how often both backends put the same passage first
        pairs = zip(result["local"]["top1_rows"][mode], result["qdrant"]["top1_rows"][mode])
        result[f"same_top1_{mode}"] = round(sum(a == b for a, b in pairs) / len(asked), 3)
    for name in folders:
        del result[name]["top1_rows"]
    return result


def _sparse_entries(settings: Any, collection: str, sample: int = 1000) -> float:
    """Mean non-zero entries of the sparse lexical vector over the first ``sample`` points (sizing: 8 B each)."""
    from qa.index.qdrant import LEXICAL, client_for

    points, _ = client_for(settings).scroll(collection, limit=sample, with_vectors=[LEXICAL], with_payload=False)
    return round(statistics.mean(len(point.vector[LEXICAL].indices) for point in points), 1)


def run(work: Path, passages: int, runs: int, questions: int, log: Any) -> dict[str, Any]:
    arguments = {"work": str(work), "passages": passages}
    results: dict[str, Any] = {"passages": passages, "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    run_worker("prepare_models", {"work": str(work)})
    builds: dict[str, list[dict[str, Any]]] = {"local": [], "ray": []}
    for number in range(runs):
        for engine in ("local", "ray"):  # alternated, so a change in the machine's load hits both
            log(f"… build {number + 1}/{runs} with the {engine} engine")
            builds[engine].append(run_worker("engine_build", {**arguments, "engine": engine}))
    medians = {engine: statistics.median(run["wall_seconds"] for run in found) for engine, found in builds.items()}
    results["builds"] = builds
    results["median_wall_seconds"] = medians
    results["ray_over_local"] = round(medians["ray"] / medians["local"], 2)
    results["identical_passages_jsonl"] = _same_passages(str(work), passages)
    log("… search latency, local and Qdrant backends")
    results["backends"] = run_worker("backend_latency", {**arguments, "questions": questions})
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=10_000, help="corpus size (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=3, help="builds per engine, alternated (default: %(default)s)")
    parser.add_argument("--questions", type=int, default=100, help="SciFact questions timed (default: %(default)s)")
    parser.add_argument("--work", type=Path, default=Path(".bench"), help="scratch folder (default: %(default)s)")
    parser.add_argument("--out", type=Path, help="write every figure here as JSON")
    args = parser.parse_args(argv)
    results = run(
        args.work.resolve(), args.passages, args.runs, args.questions, lambda line: print(line, file=sys.stderr)
    )
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
