"""Which approximate FAISS index to use: recall@10 against exact search, build time, latency and memory.

`python -m benchmarks.ann_sweep [--passages N] [--hnsw-rows N]` runs on the passage vectors of
an index `make bench` built (``.bench/n{N}/index/vectors.npy``) and the SciFact claims encoded
by the same stand-in encoder. It is the measurement behind the dense index's design
(docs/performance.md); the main benchmark then measures the chosen index only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.build import size_dir, static_model_dir
from benchmarks.data import load_questions
from benchmarks.measure import percentiles, time_each


def _rerank(vectors: np.ndarray, queries: np.ndarray, candidates: np.ndarray, k: int) -> np.ndarray:
    """Exact cosines of each query's candidates, best k first (what qa.index.dense does after the IVF)."""
    found = np.full((len(queries), k), -np.inf, dtype=np.float32)
    for number, (query, rows) in enumerate(zip(queries, candidates)):
        rows = np.sort(rows[rows >= 0])
        exact = np.asarray(vectors[rows], dtype=np.float32) @ query
        top = np.sort(exact)[::-1][:k]
        found[number, : len(top)] = top
    return found


def sweep(vectors: np.ndarray, queries: np.ndarray, hnsw_rows: int) -> list[dict[str, Any]]:
    import faiss

    from qa.index.dense import cells_for, exact_top_k, recall_at

    rows, dimension = vectors.shape
    truth, _ = exact_top_k(vectors, queries, 10)
    rng = np.random.default_rng(0)
    outcomes = []

    def measure(name: str, index: Any, build_seconds: float, bytes_per_vector: float, setting: str, rerank: int = 0):
        def search(query: np.ndarray) -> Any:
            found = index.search(query[None, :], max(100, 100 * rerank) if rerank else 100)
            return _rerank(vectors, query[None, :], found[1], 10) if rerank else found

        scores, candidates = index.search(queries, max(100, 100 * rerank) if rerank else 100)
        found = _rerank(vectors, queries, candidates, 10) if rerank else scores[:, :10]
        outcome = {
            "index": name,
            "setting": setting,
            "rows": int(index.ntotal),
            "build_seconds": round(build_seconds, 1),
            "recall_at_10": round(recall_at(found, truth if index.ntotal == rows else subset_truth), 4),
            "search_k100": percentiles(time_each(search, list(queries[:100]))),
            "bytes_per_vector": bytes_per_vector,
        }
        print(json.dumps(outcome), file=sys.stderr, flush=True)
        outcomes.append(outcome)

    started = time.perf_counter()
    flat = faiss.IndexFlatIP(dimension)
    flat.add(vectors)
    measure("Flat", flat, time.perf_counter() - started, 4 * dimension, "exact")
    del flat

    subset = np.ascontiguousarray(vectors[:hnsw_rows])
    subset_truth, _ = exact_top_k(subset, queries, 10)
    started = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(dimension, 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.add(subset)
    built = time.perf_counter() - started
    for ef in (64, 128, 256):
        hnsw.hnsw.efSearch = ef
        measure("HNSW32,Flat", hnsw, built, 4 * dimension + 2 * 32 * 4, f"efSearch {ef}, {hnsw_rows:,} rows")
    del hnsw

    nlist = cells_for(rows)
    sample = vectors[np.sort(rng.choice(rows, min(rows, 50 * nlist), replace=False))]
    for factory, bytes_per_vector, rerank in (
        (f"IVF{nlist},Flat", 4 * dimension, 0),
        (f"IVF{nlist},SQ8", dimension, 0),
        (f"IVF{nlist},SQ8", dimension, 3),
        (f"IVF{nlist},PQ{dimension // 8}x4fs", dimension // 16, 10),
    ):
        started = time.perf_counter()
        index = faiss.index_factory(dimension, factory, faiss.METRIC_INNER_PRODUCT)
        index.train(sample)
        index.add(vectors)
        built = time.perf_counter() - started
        name = factory + (f" + exact re-rank ×{rerank}" if rerank else "")
        for share in (32, 16, 8):
            faiss.extract_index_ivf(index).nprobe = nlist // share
            measure(name, index, built, bytes_per_vector, f"nprobe {nlist // share} (1/{share})", rerank)
        del index
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ann_sweep", description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=1_000_000, help="the size whose vectors to use")
    parser.add_argument("--hnsw-rows", type=int, default=200_000, help="HNSW is built on this many rows only")
    parser.add_argument("--work", type=Path, default=Path(".bench"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    import faiss

    from qa.index.manifest import Manifest
    from qa.models.encoder import load_encoder

    faiss.omp_set_num_threads(2)
    index_dir = size_dir(args.work, args.passages) / "index"
    vectors = np.load(index_dir / "vectors.npy")
    model = (Manifest.read(index_dir).model or {}).get("name") or static_model_dir(args.work)
    queries = load_encoder(model).encode_queries(load_questions(limit=300))  # the model the vectors came from
    outcomes = sweep(vectors, queries, min(args.hnsw_rows, len(vectors)))
    if args.out:
        args.out.write_text(json.dumps(outcomes, indent=2) + "\n", encoding="utf-8")
    for outcome in outcomes:
        search = outcome["search_k100"]
        print(
            f"| {outcome['index']} | {outcome['setting']} | {outcome['build_seconds']} s "
            f"| {outcome['recall_at_10']:.3f} | {search['p50_ms']:.1f} / {search['p95_ms']:.1f} ms "
            f"| {outcome['bytes_per_vector']} B |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
