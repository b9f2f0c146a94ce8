"""Build measurements: stage throughput, peak memory, bytes on disk, and incremental rebuilds."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from benchmarks.data import article_stream, iter_articles, write_corpus
from benchmarks.encoders import build_bge_shaped_model, build_static_encoder
from benchmarks.measure import disk_bytes, memory

STAGES = ("load", "split", "embed", "lexical", "duplicates", "dense", "write")


def static_model_dir(work: Path) -> Path:
    return work / "models" / "static-384"


def bge_model_dir(work: Path) -> Path:
    return work / "models" / "bge-small-shaped"


def size_dir(work: Path, passages: int) -> Path:
    return work / f"n{passages}"


def prepare_models(work: str) -> dict[str, Any]:
    """Train the stand-in encoder and write the bge-small-shaped one (both cached in the work folder)."""
    root = Path(work)
    seconds = {}
    for name, folder, make in (
        ("static", static_model_dir(root), build_static_encoder),
        ("bge_shaped", bge_model_dir(root), build_bge_shaped_model),
    ):
        started = time.perf_counter()
        make(folder)
        seconds[name] = round(time.perf_counter() - started, 2)
    return {"seconds": seconds}


def _stage_report(seconds: dict[str, float], passages: int) -> dict[str, Any]:
    stages = {name: round(seconds.get(name, 0.0), 3) for name in STAGES if name in seconds}
    throughput = {name: round(passages / value, 1) for name, value in stages.items() if value > 0}
    total = sum(stages.values())
    return {"seconds": stages, "passages_per_second": throughput, "total_seconds": round(total, 2)}


def build(work: str, passages: int, from_files: bool = True) -> dict[str, Any]:
    """Build the index of ``passages`` synthetic passages with the stand-in encoder.

    ``from_files`` writes the articles as a corpus folder first, so the load-and-clean stage
    (reading, boilerplate rules, metadata) is measured too; otherwise articles go straight to
    :func:`qa.index.build.index_articles` and that stage is not part of the figures.
    """
    from qa.index.build import build_index, index_articles

    root = size_dir(Path(work), passages)
    index_dir = root / "index"
    shutil.rmtree(index_dir, ignore_errors=True)
    model = str(static_model_dir(Path(work)))
    if from_files:
        corpus_dir = root / "corpus"
        shutil.rmtree(corpus_dir, ignore_errors=True)
        write_corpus(article_stream(passages), corpus_dir)
        report = build_index(corpus_dir, index_dir, model=model, require_dense=True)
    else:  # the articles are made as the build reads them: the build's memory is its own
        report = index_articles(article_stream(passages), index_dir, model=model, require_dense=True)
    manifest = report.manifest
    stages = _stage_report(report.seconds, manifest.passages)
    sizes = disk_bytes(index_dir)
    return {
        "passages": manifest.passages,
        "articles": manifest.articles,
        "from_files": from_files,
        **stages,
        "model_seconds": round(report.seconds.get("model", 0.0), 3),
        "memory": memory(),
        "disk_bytes": sizes,
        "disk_bytes_per_passage": round(sizes["total"] / manifest.passages, 1),
        "dense": manifest.dense.to_dict() if manifest.dense else None,
    }


def rebuild(work: str, passages: int) -> dict[str, Any]:
    """Rebuild after adding one article, and from scratch (embedding everything again); same model.

    Runs on a copy of the index built by :func:`build` (from files), so the index the query
    benchmarks use is left as it was.
    """
    from qa.index.build import build_index
    from qa.models.encoder import load_encoder

    root = size_dir(Path(work), passages)
    corpus_dir, index_dir = root / "corpus", root / "rebuild-index"
    shutil.rmtree(index_dir, ignore_errors=True)
    shutil.copytree(root / "index", index_dir)
    model = str(static_model_dir(Path(work)))
    load_encoder(model)  # imports and first load happen here, not inside the first timed build
    extra = corpus_dir / "zz-one-more-article.jsonl"
    article = next(iter_articles(seed=1))
    extra.write_text(json.dumps({"id": "one-more", "title": article.title, "text": article.text}) + "\n")
    runs = {}
    try:
        for name, reuse in (("add_one_article", True), ("full_rebuild", False)):
            started = time.perf_counter()
            report = build_index(corpus_dir, index_dir, model=model, require_dense=True, reuse_vectors=reuse)
            runs[name] = {
                "wall_seconds": round(time.perf_counter() - started, 2),
                **_stage_report(report.seconds, report.manifest.passages),
                "vectors_reused": report.vectors_reused,
                "vectors_embedded": report.manifest.passages - report.vectors_reused,
            }
    finally:
        extra.unlink(missing_ok=True)
        shutil.rmtree(index_dir, ignore_errors=True)
    return {"passages": passages, "runs": runs}
