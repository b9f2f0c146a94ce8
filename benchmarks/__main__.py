"""`python -m benchmarks [--quick] [--out FILE.json]`: build, search and start up at several sizes, next to peers.

Prints a table and writes every figure as JSON. ``--quick`` (one size, 10k passages) is a
smoke run of a few minutes; the full run adds 100k and 1M passages.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.measure import run_worker, write_results
from benchmarks.report import format_report
from benchmarks.startup import first_answer, import_qa


@dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...]  # passages
    from_files: tuple[int, ...]  # sizes built by `qa build` from a corpus folder (load + clean measured)
    questions: int
    txtai_sizes: tuple[int, ...]
    rebuild_size: int
    startup_sizes: tuple[int, ...]
    model_cost_passages: int
    startup_runs: int = 3
    pdf_pages: int = 200  # a generated text PDF read for pages per second (0: skip)
    ocr_pages: int = 4  # scanned pages read by Tesseract (0: skip)


QUICK = Plan((10_000,), (10_000,), 100, (10_000,), 10_000, (10_000,), 32, startup_runs=1, pdf_pages=100, ocr_pages=2)
FULL = Plan((10_000, 100_000, 1_000_000), (10_000, 100_000), 200, (10_000, 100_000), 100_000, (10_000, 1_000_000), 128)
# rank_bm25 scores every passage in Python for every question term: ~1 s per question and several GB at 1M,
# so it runs up to 100k passages (its cost per question grows linearly with the corpus).
RANK_BM25_QUESTIONS = {10_000: 100, 100_000: 30}
DUPLICATES_UP_TO = 100_000  # the wire-copy stage on its own, with planted copies (benchmarks/duplicates.py)


def _version(package: str) -> str | None:
    """The installed version of ``package``; None when it is not installed (a peer left out)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _environment() -> dict[str, Any]:
    packages = ("faiss-cpu", "bm25s", "rank-bm25", "txtai", "sentence-transformers", "torch", "numpy")
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "packages": {name: _version(name) for name in packages},
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def run(plan: Plan, work: Path, log: Any) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"plan": asdict(plan), "environment": _environment(), "sizes": {}}

    def step(label: str, task: str, **arguments: Any) -> dict[str, Any]:
        log(f"… {label}")
        started = time.perf_counter()
        outcome = run_worker(task, {"work": str(work), **arguments})
        log(f"  done in {time.perf_counter() - started:.0f} s")
        return outcome

    results["models"] = step("building the stand-in encoder and the bge-small-shaped model", "prepare_models")
    results["model_cost"] = step("real model cost (bge-small shape)", "model_cost", passages=plan.model_cost_passages)
    log("… import qa")
    results["import_qa"] = import_qa()
    if plan.pdf_pages:
        results["documents"] = step(
            f"reading documents: a {plan.pdf_pages}-page text PDF, {plan.ocr_pages} scanned pages",
            "documents",
            pages=plan.pdf_pages,
            scans=plan.ocr_pages,
        )
    for size in plan.sizes:
        entry: dict[str, Any] = {}
        results["sizes"][str(size)] = entry
        entry["build"] = step(f"{size:,} passages: build", "build", passages=size, from_files=size in plan.from_files)
        entry["query"] = step(f"{size:,} passages: search", "latency", passages=size, questions=plan.questions)
        entry["plain_bm25s"] = step(f"{size:,} passages: plain bm25s", "plain_bm25s", passages=size)
        if size in RANK_BM25_QUESTIONS or size < 10_000:
            questions = RANK_BM25_QUESTIONS.get(size, 20)
            entry["rank_bm25"] = step(f"{size:,} passages: rank_bm25", "rank_bm25", passages=size, questions=questions)
        if size in plan.txtai_sizes:
            entry["txtai"] = step(f"{size:,} passages: txtai", "txtai", passages=size)
        if size <= DUPLICATES_UP_TO:
            entry["duplicates"] = step(f"{size:,} passages: grouping wire copies", "duplicates", passages=size)
        if size == plan.rebuild_size:
            entry["rebuild"] = step(f"{size:,} passages: incremental rebuild", "rebuild", passages=size)
        if size in plan.startup_sizes:
            log(f"… {size:,} passages: process start → first answer")
            entry["startup"] = first_answer(str(work), size, runs=plan.startup_runs)
    results["environment"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["environment"]["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one size (10k passages): a smoke run of a few minutes")
    parser.add_argument("--out", type=Path, help="write every figure here as JSON")
    parser.add_argument("--work", type=Path, default=Path(".bench"), help="scratch folder (default: %(default)s)")
    parser.add_argument("--sizes", help="comma-separated passage counts, instead of the plan's")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.sizes:
        sizes = tuple(int(value) for value in args.sizes.split(","))
        plan = Plan(
            sizes,
            tuple(s for s in sizes if s <= 100_000),
            plan.questions,
            tuple(s for s in sizes if s <= 100_000),
            min(sizes),
            (min(sizes), max(sizes)),
            plan.model_cost_passages,
        )
    started = time.perf_counter()
    results = run(plan, args.work.resolve(), lambda line: print(line, file=sys.stderr, flush=True))
    results["wall_seconds"] = round(time.perf_counter() - started, 1)
    print(format_report(results))
    if args.out:
        write_results(args.out, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
