"""Clocks, percentiles, memory and disk readings, and running one measurement in its own process.

Every heavy measurement runs in a fresh Python process (``python -m benchmarks.worker``), so
its peak resident memory is its own and nothing it loaded lingers into the next one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

RESULT_MARK = "BENCHMARK-RESULT "
ROOT = Path(__file__).resolve().parents[1]  # the repository: `benchmarks` is importable from here


def percentiles(seconds: list[float]) -> dict[str, float]:
    """p50, p95 and mean of a list of durations, in milliseconds."""
    values = np.asarray(seconds, dtype=np.float64) * 1000
    if len(values) == 0:
        return {"p50_ms": float("nan"), "p95_ms": float("nan"), "mean_ms": float("nan"), "n": 0}
    return {
        "p50_ms": round(float(np.percentile(values, 50)), 3),
        "p95_ms": round(float(np.percentile(values, 95)), 3),
        "mean_ms": round(float(values.mean()), 3),
        "n": len(values),
    }


def time_each(function: Callable[[Any], Any], items: list[Any], warmup: int = 3) -> list[float]:
    """Seconds per call of ``function(item)``, after ``warmup`` untimed calls."""
    for item in items[:warmup]:
        function(item)
    durations = []
    for item in items:
        started = time.perf_counter()
        function(item)
        durations.append(time.perf_counter() - started)
    return durations


def memory() -> dict[str, int]:
    """This process's memory from /proc/self/status, in bytes: peak and current resident, anonymous and file-backed.

    File-backed pages (memory-mapped index files) count in the resident size but are page
    cache the kernel can drop under pressure; anonymous pages cannot be dropped.
    """
    fields = {"VmHWM": "peak_rss", "VmRSS": "rss", "RssAnon": "rss_anon", "RssFile": "rss_file"}
    found: dict[str, int] = {}
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                name, _, value = line.partition(":")
                if name in fields:
                    found[fields[name]] = int(value.split()[0]) * 1024
    except OSError:
        import resource

        found["peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return found


def mapped_rss(folder: Path) -> dict[str, int]:
    """Resident bytes of each file under ``folder`` that this process memory-maps (from /proc/self/smaps)."""
    root = str(Path(folder).resolve()) + "/"
    found: dict[str, int] = {}
    current = None
    try:
        with open("/proc/self/smaps", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                first = line.split(None, 1)[0]
                if not first.endswith(":"):  # a mapping's header line: address range, …, path
                    parts = line.split(None, 5)
                    path = parts[5].strip() if len(parts) == 6 else ""
                    current = path[len(root) :] if path.startswith(root) else None
                elif first == "Rss:" and current is not None:
                    found[current] = found.get(current, 0) + int(line.split()[1]) * 1024
    except OSError:
        return {}
    return dict(sorted(found.items(), key=lambda item: -item[1]))


def disk_bytes(folder: Path) -> dict[str, int]:
    """Bytes on disk of an index folder, by top-level entry, plus the total."""
    sizes: dict[str, int] = {}
    for path in folder.rglob("*"):
        if path.is_file():
            top = path.relative_to(folder).parts[0]
            sizes[top] = sizes.get(top, 0) + path.stat().st_size
    sizes["total"] = sum(sizes.values())
    return sizes


def write_results(path: Path, results: dict[str, Any]) -> None:
    """Every figure as JSON at ``path`` (its folder made if needed), and a line saying so on stderr."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {path}", file=sys.stderr)


def emit(result: dict[str, Any]) -> None:
    """The worker's answer to the parent: one marked JSON line on stdout."""
    print(RESULT_MARK + json.dumps(result), flush=True)


def run_worker(task: str, arguments: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
    """Run ``benchmarks.worker`` ``task`` in a fresh process; returns its result plus wall time and peak memory."""
    command = [sys.executable, "-m", "benchmarks.worker", task, json.dumps(arguments)]
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    environment = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1", "PYTHONPATH": path}
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=environment, cwd=ROOT)
    wall = time.perf_counter() - started
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if completed.returncode != 0 or not lines:
        tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-15:])
        raise RuntimeError(f"benchmark task {task} failed (exit {completed.returncode}):\n{tail}")
    result = json.loads(lines[-1][len(RESULT_MARK) :])
    result.setdefault("process_seconds", round(wall, 3))
    return result
