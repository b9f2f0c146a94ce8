"""`python -m benchmarks.load [--callers 16] [--seconds 60]`: the real web app under concurrent API callers.

Builds an index of the shipped corpus (``corpus/``) with the product's default model
(all-MiniLM-L6-v2, so answers are hybrid and every question is encoded by the real model;
``--model PATH`` for another, ``--model none`` for lexical only), starts ``app.py`` on a free loopback
port, and runs ``--callers`` threads, each with its own ``gradio_client.Client``, calling
``predict(question, k, api_name="/ask")`` back to back for ``--seconds`` with a rotating set of
questions. Every response must be the JSON answer with hits; anything else counts as an error.
Prints the figures and writes them as JSON with ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.measure import ROOT, percentiles, write_results
from qa.serve.service import SEED_EXAMPLES
from tests.support.servers import Server as App
from tests.support.servers import ask_concurrently, environment

# The app's own example questions, rephrasings, questions the corpus cannot answer, and odd input.
QUESTIONS = [
    *SEED_EXAMPLES,
    "Which agency investigates human trafficking in Pakistan?",
    "What happened to the Pakistani wives in Xinjiang?",
    "Who lobbied for the release of their wives?",
    "How are Christian girls targeted by marriage brokers?",
    "What did the report say about the failure of the state?",
    "When were the Chinese nationals arrested?",
    "brides China Pakistan 629",
    "What is the capital of Australia?",
    "Who won the football world cup in 1998?",
    "trafficking",
    "¿Qué pasó con las mujeres paquistaníes?",
    "What did officials say?" + " really" * 40,
]


def build_index(corpus: Path, index: Path, model: str | None) -> dict[str, Any]:
    """`qa build` of ``corpus`` into ``index`` with ``model`` (None: the default; "none": keywords); its manifest."""
    command = [sys.executable, "-m", "qa", "build", "--corpus", str(corpus), "--index", str(index)]
    command += ["--model", model] if model else []
    subprocess.run(command, check=True, capture_output=True, text=True, env=environment(), cwd=ROOT)
    return json.loads((index / "manifest.json").read_text(encoding="utf-8"))


def hammer(url: str, callers: int, seconds: float, k: int, questions: list[str]) -> dict[str, Any]:
    """``callers`` threads asking ``questions`` in turn for ``seconds``; latency of every request."""
    calls = ask_concurrently(url, callers, seconds, k, questions)
    every = [value for mine in calls.latencies for value in mine]
    timing = percentiles(every)
    return {
        "callers": callers,
        "seconds": round(calls.wall, 2),
        "requests": len(every),
        "errors": len(calls.errors),
        "error_examples": sorted(set(calls.errors))[:5],
        "latency": {**timing, "p99_ms": _percentile(every, 99), "max_ms": round(max(every, default=0) * 1e3, 1)},
        "requests_per_second": round(len(every) / calls.wall, 2) if calls.wall else 0.0,
        "requests_per_caller": [len(mine) for mine in calls.latencies],
    }


def _percentile(seconds: list[float], q: float) -> float:
    if not seconds:
        return float("nan")
    ordered = sorted(seconds)
    return round(ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] * 1e3, 1)


def run(
    callers: int,
    seconds: float,
    k: int,
    work: Path,
    corpus: Path,
    model: str | None,
    index: Path | None = None,
    log: Any = print,
) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"load_average_at_start": [round(x, 2) for x in os.getloadavg()], "k": k}
    if index is None:
        index = work / "load" / "index"
        log(f"… building an index of {corpus} ({'lexical only' if model == 'none' else model or 'the default model'})")
        manifest = build_index(corpus, index, model)
    else:
        manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    result["index"] = {
        "path": str(index),
        "mode": manifest["mode"],
        "passages": manifest["passages"],
        "model": (manifest.get("model") or {}).get("name"),
    }
    log("… starting app.py")
    started = time.perf_counter()
    with App(index, corpus, work / "load-app.log") as app:
        result["app_start_seconds"] = round(time.perf_counter() - started, 2)
        log(f"… {callers} callers for {seconds:.0f} s on {app.url}")
        server_cpu, own_cpu = app.cpu_seconds(), time.process_time()
        result.update(hammer(app.url, callers, seconds, k, QUESTIONS))
        # Where the machine's two cores went: the server, and the callers (this process, same machine).
        if server_cpu is not None and result["requests"]:
            used = (app.cpu_seconds() or server_cpu) - server_cpu
            result["server_cpu_ms_per_request"] = round(used / result["requests"] * 1e3, 1)
        if result["requests"]:
            result["callers_cpu_ms_per_request"] = round((time.process_time() - own_cpu) / result["requests"] * 1e3, 1)
        result["server_memory"] = app.memory()
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return result


def format_result(result: dict[str, Any]) -> str:
    latency = result["latency"]
    spread = result["requests_per_caller"]
    memory = result.get("server_memory") or {}
    return "\n".join(
        [
            f"load test: {result['callers']} callers × {result['seconds']:.0f} s on app.py "
            f"({result['index']['mode']}, {result['index']['model'] or 'no model'}, "
            f"{result['index']['passages']:,} passages, k = {result['k']}); "
            f"load average {result['load_average_at_start']} at start, {result['load_average_at_end']} at end",
            f"requests {result['requests']:,}   errors {result['errors']}   "
            f"throughput {result['requests_per_second']:.1f}/s",
            f"latency p50 {latency['p50_ms']:.0f} ms   p95 {latency['p95_ms']:.0f} ms   "
            f"p99 {latency['p99_ms']:.0f} ms   max {latency['max_ms']:.0f} ms",
            f"requests per caller: min {min(spread, default=0)}, median {statistics.median(spread or [0]):.0f}, "
            f"max {max(spread, default=0)}   server peak RSS {memory.get('peak_rss', 0) / 2**20:.0f} MiB",
            f"CPU per request: server {result.get('server_cpu_ms_per_request', float('nan')):.0f} ms, "
            f"callers {result.get('callers_cpu_ms_per_request', float('nan')):.0f} ms (same machine)",
        ]
        + [f"error: {example}" for example in result["error_examples"]]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.splitlines()[0])
    parser.add_argument("--callers", type=int, default=16, help="concurrent API callers (default: %(default)s)")
    parser.add_argument("--seconds", type=float, default=60, help="how long they call (default: %(default)s)")
    parser.add_argument("-k", type=int, default=5, help="passages per answer (default: %(default)s)")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus", help="articles to serve (default: corpus/)")
    parser.add_argument("--index", type=Path, help="serve this built index instead of building one")
    parser.add_argument("--model", help="model to build with (default: the product's; none: lexical)")
    parser.add_argument("--work", type=Path, default=Path(".bench"), help="scratch folder (default: %(default)s)")
    parser.add_argument("--out", type=Path, help="write the figures here as JSON")
    args = parser.parse_args(argv)
    result = run(
        args.callers,
        args.seconds,
        args.k,
        args.work.resolve(),
        args.corpus.resolve(),
        args.model,
        args.index.resolve() if args.index else None,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print(format_result(result))
    if args.out:
        write_results(args.out, result)
    return 0 if result["errors"] == 0 and result["requests"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
