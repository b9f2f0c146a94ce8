"""`python -m benchmarks.real_model`: the product's default model (all-MiniLM-L6-v2) timed where it runs.

The main harness (``python -m benchmarks``) builds and searches with a stand-in encoder, because
embedding 100k–1M passages with a transformer takes hours here. This module puts the real
model back wherever a real figure is affordable:

* ``encoding`` — one question at a time, warm, as ``Retriever.search`` encodes it (1 and 2 torch threads);
* ``search`` — end-to-end hybrid ``Retriever.search`` on the harness's index of N passages, **the question
  encoded by the real model inside the timed call**, fused and judged as an index of the default model is
  (its ``MODEL_FUSION`` interpolation with the coverage gate, its calibrated confidence rule), the
  highlight's sentences encoded by the real model too; then once more with one thread and the
  highlight chosen by BM25 alone (a what-if: no sentence encoding). The passage vectors are the
  stand-in's (same 384 dimensions, same FAISS index): embedding them with the real model is the hours
  this avoids. Size 0 is ``corpus/`` built with the default model, real vectors throughout;
* ``build`` — passages per second embedding the harness's passages with PyTorch fp32
  (``Encoder.encode_passages``, the build's own call), alone and with their sentences (the sentence
  vectors a build of the default model makes);
* ``startup`` — ``qa ask`` from process start to the printed answer, and ``app.py`` from process start
  to its first ``/ask`` answer, on an index of ``corpus/`` built with the default model.

Each measurement runs ``--runs`` times, each in a fresh process (``benchmarks.worker``), with the load
average read before it; the report gives every run and the median. Latencies come as wall time and as
CPU time of the process (all its threads): on a shared machine the first includes waiting for a core.
The 16-caller load test with the real model is ``python -m benchmarks.load`` (its default model is now
the product's).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.build import size_dir, static_model_dir
from benchmarks.data import load_questions, make_articles
from benchmarks.measure import ROOT, percentiles, run_worker, write_results
from tests.support.servers import environment

TASKS = ("encoding", "search", "build", "startup")
THREADS = (1, 2)  # torch intra-op threads; 2 is torch's default on this machine
STARTUP_QUESTION = "Why did Pakistan stop investigating Chinese traffickers?"


def _default_encoder() -> Any:
    from qa.models.bundled import BUNDLED_MODEL
    from qa.models.encoder import load_encoder

    return load_encoder(BUNDLED_MODEL, allow_download=False)


def _timed(encoder: Any) -> Any:
    """The same encoder, adding up the seconds spent encoding questions and highlight sentences."""

    @dataclasses.dataclass
    class Timed(type(encoder)):  # type: ignore[misc]
        question_seconds: float = 0.0
        sentence_seconds: float = 0.0
        sentences: int = 0
        model_highlight: bool = True  # False: the highlight gets no cosines (BM25 alone picks the sentence)

        def encode_queries(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
            started = time.perf_counter()
            found = super().encode_queries(texts, batch_size)
            self.question_seconds += time.perf_counter() - started
            return found

        def encode_sentences(self, texts: list[str]) -> np.ndarray:
            if not self.model_highlight:  # equal cosines: ties go to the earlier sentence, as with no model
                return np.zeros((len(texts), self.dimension), dtype=np.float32)
            started = time.perf_counter()
            found = super().encode_sentences(texts)
            self.sentence_seconds += time.perf_counter() - started
            self.sentences += len(texts)
            return found

    return Timed(**{field.name: getattr(encoder, field.name) for field in dataclasses.fields(encoder)})


def clocked(function: Any, items: list[Any], warmup: int = 5) -> dict[str, dict[str, float]]:
    """Wall and CPU time (this process, all its threads) per call of ``function(item)``, after ``warmup`` calls.

    On a shared machine the wall time includes waiting for a core; the CPU time is what the call costs.
    """
    for item in items[:warmup]:
        function(item)
    wall, cpu = [], []
    for item in items:
        started, started_cpu = time.perf_counter(), time.process_time()
        function(item)
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    return {"wall": percentiles(wall), "cpu": percentiles(cpu)}


def encoding(questions: int = 100) -> dict[str, Any]:
    """One question at a time, warm (5 untimed first), with one and with two torch threads."""
    import torch

    encoder = _default_encoder()
    asked = load_questions(limit=questions)
    tokens = [len(ids) for ids in encoder.model.tokenizer([encoder.query_prompt + q for q in asked])["input_ids"]]
    default_threads = torch.get_num_threads()
    by_threads = {}
    for threads in THREADS:
        torch.set_num_threads(threads)
        by_threads[str(threads)] = clocked(lambda q: encoder.encode_queries([q]), asked)
    torch.set_num_threads(default_threads)
    return {
        "model": encoder.name,
        "questions": len(asked),
        "question_tokens_mean": round(float(np.mean(tokens)), 1),
        "torch_threads_default": default_threads,
        "by_torch_threads": by_threads,
    }


def search(work: str, passages: int, questions: int = 100, threads: tuple[int, ...] = THREADS) -> dict[str, Any]:
    """End-to-end hybrid search on the harness's index of ``passages``, the question encoded by the real model.

    The index's stand-in encoder is replaced by the default model, and the index is fused and judged as
    one built with it (its manifest's model name, fusion and confidence rule). Its passage vectors stay
    the stand-in's: timing is what this measures, not which passages come first. ``passages`` 0 searches
    the shipped ``corpus/`` built with the default model — real vectors throughout — with questions about
    it (:func:`corpus_questions`).
    """
    import torch

    from qa.models.bundled import BUNDLED_MODEL
    from qa.search.retriever import Retriever, clean_question
    from qa.settings import MODEL_FUSION

    if passages == 0:  # the shipped corpus, built with the default model: real passage vectors
        index_dir = corpus_index(Path(work))
        retriever = Retriever.load(index_dir)
        manifest = retriever.manifest
        real = retriever.encoder
        assert real is not None and real.name == BUNDLED_MODEL
        asked = [clean_question(q)[0] for q in corpus_questions()]
        questions = min(questions, len(asked) - 5)
    else:
        index_dir = size_dir(Path(work), passages) / "index"
        retriever = Retriever.load(index_dir)
        manifest = retriever.manifest
        assert manifest.model is not None and retriever.encoder is not None, f"{index_dir} has no passage vectors"
        real = _default_encoder()
        if real.dimension != manifest.model.dimension:
            raise SystemExit(f"{index_dir} holds {manifest.model.dimension}-d vectors, the model {real.dimension}-d")
        retriever.manifest = dataclasses.replace(
            manifest,
            model=dataclasses.replace(manifest.model, name=BUNDLED_MODEL),
            fusion=MODEL_FUSION[BUNDLED_MODEL],
        )
        asked = [clean_question(q)[0] for q in load_questions(limit=questions + 5)]
    timed = retriever.encoder = _timed(real)
    for question in asked[questions : questions + 5]:  # warm-up on five other questions, not timed
        retriever.search(question, 10, mode="hybrid")
    asked = asked[:questions]
    result: dict[str, Any] = {
        "passages": len(retriever.passages),
        "questions": len(asked),
        "model": real.name,
        "fusion": retriever.manifest.fusion.to_dict() if retriever.manifest.fusion else None,
        "dense_index": manifest.dense.to_dict() if manifest.dense else None,
        "by_torch_threads": {},
    }
    default_threads = torch.get_num_threads()
    variants = [(str(n), n, True) for n in threads] + [("bm25_highlight_1_thread", 1, False)]
    for name, count, model_highlight in variants:
        torch.set_num_threads(count)
        timed.model_highlight = model_highlight
        for question in asked[:2]:  # the thread pool warms up
            retriever.search(question, 10, mode="hybrid")
        timed.question_seconds = timed.sentence_seconds = 0.0
        timed.sentences = 0
        wall, cpu, questions_s, sentences_s = [], [], [], []
        for question in asked:
            before_q, before_s = timed.question_seconds, timed.sentence_seconds
            started, started_cpu = time.perf_counter(), time.process_time()
            retriever.search(question, 10, mode="hybrid")
            cpu.append(time.process_time() - started_cpu)
            wall.append(time.perf_counter() - started)
            questions_s.append(timed.question_seconds - before_q)
            sentences_s.append(timed.sentence_seconds - before_s)
        figures = {
            "wall": percentiles(wall),
            "cpu": percentiles(cpu),
            "of_which_question_encoding": percentiles(questions_s),
            "of_which_highlight_encoding": percentiles(sentences_s),
            "without_model_encoding": percentiles([w - q - h for w, q, h in zip(wall, questions_s, sentences_s)]),
            "highlight_sentences_per_search": round(timed.sentences / len(asked), 2),
        }
        if model_highlight:
            result["by_torch_threads"][name] = figures
        else:
            result[name] = figures
    torch.set_num_threads(default_threads)
    return result


def build(passages: int = 128) -> dict[str, Any]:
    """Passages per second embedding the harness's passages with PyTorch fp32, as a build does: each passage
    (title + paragraph), then each of its sentences with the title (the sentence vectors)."""
    import torch

    from qa.index.sentences import passage_sentences

    encoder = _default_encoder()
    pairs: list[tuple[str, str]] = []
    for article in make_articles(passages):
        pairs.extend((article.title, paragraph) for paragraph in article.text.split("\n\n"))
    pairs = pairs[:passages]
    documents = [f"{title}\n{paragraph}" for title, paragraph in pairs]
    sentences = [sentence for title, paragraph in pairs for sentence in passage_sentences(paragraph, title)]
    tokens = [len(ids) for ids in encoder.model.tokenizer(documents, truncation=True, max_length=256)["input_ids"]]
    encoder.encode_passages(documents[:16])  # warm-up
    started, started_cpu = time.perf_counter(), time.process_time()
    encoder.encode_passages(documents)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - started_cpu
    started, started_cpu = time.perf_counter(), time.process_time()
    encoder.encode_passages(sentences)
    sentence_seconds, sentence_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    both, both_cpu = seconds + sentence_seconds, cpu_seconds + sentence_cpu
    return {
        "backend": "torch-fp32",
        "torch_threads": torch.get_num_threads(),
        "passages": len(documents),
        "tokens_per_passage_mean": round(float(np.mean(tokens)), 1),
        "seconds": round(seconds, 2),
        "tokens_per_second": round(sum(tokens) / seconds, 1),
        "passages_per_second": round(len(documents) / seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "passages_per_cpu_second": round(len(documents) / cpu_seconds, 2),
        "sentences": len(sentences),
        "sentence_seconds": round(sentence_seconds, 2),
        # what a build of the default model embeds per passage: the passage and its sentences
        "with_sentences_passages_per_second": round(len(documents) / both, 2),
        "with_sentences_passages_per_cpu_second": round(len(documents) / both_cpu, 2),
    }


def corpus_questions() -> list[str]:
    """Questions about the shipped corpus: the load test's set and the paraphrases of tests/paraphrases.json."""
    from benchmarks.load import QUESTIONS

    paraphrases = json.loads((ROOT / "tests" / "paraphrases.json").read_text(encoding="utf-8"))["questions"]
    return [*QUESTIONS, *(entry["question"] for entry in paraphrases)]


def corpus_index(work: Path) -> Path:
    """An index of the shipped ``corpus/`` built with the default model (kept when already there)."""
    index = work / "corpus-default-model" / "index"
    if not (index / "manifest.json").is_file():
        command = [sys.executable, "-m", "qa", "build", "--corpus", str(ROOT / "corpus"), "--index", str(index)]
        subprocess.run(command, check=True, capture_output=True, text=True, env=environment(), cwd=ROOT)
    manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    if (manifest.get("model") or {}).get("name") != "sentence-transformers/all-MiniLM-L6-v2":
        raise SystemExit(f"{index} was not built with the default model: {manifest.get('semantic_off_reason')}")
    return index


def startup(work: str) -> dict[str, Any]:
    """`qa ask` process start → printed answer, and app.py process start → its first /ask answer."""
    import resource

    from gradio_client import Client

    from tests.support.servers import Server

    index = corpus_index(Path(work))
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    command = [sys.executable, "-m", "qa", "ask", STARTUP_QUESTION, "--index", str(index), "-k", "5"]
    subprocess.run(command, check=True, capture_output=True, text=True, env=environment(), cwd=ROOT)
    ask_seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    ask_cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    started = time.perf_counter()
    with Server(index, ROOT / "corpus", Path(work) / "startup-app.log") as app:
        serving = time.perf_counter() - started
        client = Client(app.url, verbose=False)  # the client's own set-up is not the app's start
        asked = time.perf_counter()
        client.predict(STARTUP_QUESTION, 5, api_name="/ask")
        first_answer = time.perf_counter() - asked
        app_cpu = app.cpu_seconds()
    return {
        "qa_ask_process_to_answer_seconds": round(ask_seconds, 3),
        "qa_ask_cpu_seconds": round(ask_cpu, 3),
        "app_cpu_seconds_at_first_answer": app_cpu,
        "app_process_to_page_seconds": round(serving, 3),
        "app_first_ask_seconds": round(first_answer, 3),
        "app_start_to_first_answer_seconds": round(serving + first_answer, 3),
    }


def _median_of(runs: list[dict[str, Any]], path: tuple[str, ...]) -> float | None:
    """The median over ``runs`` of the figure at ``path``; None when the runs did not measure it."""
    values = []
    for run in runs:
        value: Any = run
        for key in path:
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        values.append(value)
    return round(statistics.median(values), 3)


# What the report prints per task: (label, path into one run's result).
HEADLINES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "encoding": tuple(
        (
            f"question encoding {stat} ms, {clock}, {n} thread{'s' * (n > 1)}",
            ("by_torch_threads", str(n), clock, f"{stat}_ms"),
        )
        for n in THREADS
        for clock in ("wall", "cpu")
        for stat in ("p50", "p95")
    ),
    "search": (
        *tuple(
            item
            for n in THREADS
            for item in (
                (f"hybrid incl. encoding p50 ms, wall, {n} th", ("by_torch_threads", str(n), "wall", "p50_ms")),
                (f"hybrid incl. encoding p95 ms, wall, {n} th", ("by_torch_threads", str(n), "wall", "p95_ms")),
                (f"hybrid incl. encoding p50 ms, cpu, {n} th", ("by_torch_threads", str(n), "cpu", "p50_ms")),
                (f"hybrid incl. encoding p95 ms, cpu, {n} th", ("by_torch_threads", str(n), "cpu", "p95_ms")),
                (
                    f"  of which question encoding p50 ms, {n} th",
                    ("by_torch_threads", str(n), "of_which_question_encoding", "p50_ms"),
                ),
                (
                    f"  of which highlight encoding p50 ms, {n} th",
                    ("by_torch_threads", str(n), "of_which_highlight_encoding", "p50_ms"),
                ),
                (
                    f"  without the model p95 ms, wall, {n} th",
                    ("by_torch_threads", str(n), "without_model_encoding", "p95_ms"),
                ),
            )
        ),
        ("BM25-only highlight, 1 th: p50 ms, wall", ("bm25_highlight_1_thread", "wall", "p50_ms")),
        ("BM25-only highlight, 1 th: p95 ms, wall", ("bm25_highlight_1_thread", "wall", "p95_ms")),
        ("BM25-only highlight, 1 th: p50 ms, cpu", ("bm25_highlight_1_thread", "cpu", "p50_ms")),
        ("BM25-only highlight, 1 th: p95 ms, cpu", ("bm25_highlight_1_thread", "cpu", "p95_ms")),
    ),
    "build": (
        ("passages/s, PyTorch fp32", ("passages_per_second",)),
        ("passages per CPU-second, PyTorch fp32", ("passages_per_cpu_second",)),
        ("with sentence vectors: passages/s", ("with_sentences_passages_per_second",)),
        ("with sentence vectors: passages per CPU-second", ("with_sentences_passages_per_cpu_second",)),
    ),
    "startup": (
        ("qa ask: process start → answer s", ("qa_ask_process_to_answer_seconds",)),
        ("qa ask: CPU s", ("qa_ask_cpu_seconds",)),
        ("app.py: process start → first answer s", ("app_start_to_first_answer_seconds",)),
        ("app.py: CPU s at first answer", ("app_cpu_seconds_at_first_answer",)),
    ),
}


def measure(task: str, arguments: dict[str, Any], runs: int, log: Any) -> dict[str, Any]:
    """``task`` ``runs`` times, each in a fresh process, with the load average before each."""
    done = []
    for number in range(1, runs + 1):
        load = [round(x, 2) for x in os.getloadavg()]
        log(f"… {task} {arguments.get('passages', '')} run {number}/{runs}, load average {load}")
        result = run_worker(f"real_{task}", arguments)
        done.append({"load_average_before": load, **result})
    return summary(task, done)


def summary(task: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Every run of ``task`` and the median of each headline figure over them."""
    return {"runs": runs, "medians": {label: _median_of(runs, path) for label, path in HEADLINES[task]}}


def format_report(results: dict[str, Any]) -> str:
    lines = []
    for name, entry in results["measurements"].items():
        loads = ", ".join(str(run["load_average_before"][0]) for run in entry["runs"])
        lines.append(f"{name} ({len(entry['runs'])} runs, 1-min load average before each: {loads})")
        for label, path in HEADLINES[name.split(" ")[0]]:
            if entry["medians"][label] is None:  # not measured in these runs (e.g. --threads 1)
                continue
            values = ", ".join(f"{_median_of([run], path):g}" for run in entry["runs"])
            lines.append(f"  {label:<48} median {entry['medians'][label]:g}   (runs: {values})")
    return "\n".join(lines)


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.real_model", description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated, of %(default)s")
    parser.add_argument(
        "--sizes", default="0,10000,100000", help="indexes searched, in passages; 0: corpus/ (default: %(default)s)"
    )
    parser.add_argument("--threads", default="1,2", help="torch threads to search with (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement (default: %(default)s)")
    parser.add_argument("--questions", type=int, default=100, help="SciFact claims per run (default: %(default)s)")
    parser.add_argument("--passages", type=int, default=128, help="passages embedded per build run (%(default)s)")
    parser.add_argument("--work", type=Path, default=Path(".bench"), help="the harness's scratch folder (%(default)s)")
    parser.add_argument("--out", type=Path, help="write every run's figures here as JSON")
    args = parser.parse_args(argv)
    work = args.work.resolve()
    results: dict[str, Any] = {"measurements": {}, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    for task in args.tasks.split(","):
        if task not in TASKS:
            parser.error(f"unknown task {task!r}; choose from {', '.join(TASKS)}")
        if task == "search":
            for size in (int(value) for value in args.sizes.split(",")):
                if size and not (size_dir(work, size) / "index" / "manifest.json").is_file():
                    if not (static_model_dir(work) / "modules.json").is_file():
                        run_worker("prepare_models", {"work": str(work)})
                    _log(f"… building the harness's index of {size:,} passages (stand-in vectors)")
                    run_worker("build", {"work": str(work), "passages": size, "from_files": False})
                threads = [int(value) for value in args.threads.split(",")]
                arguments = {"work": str(work), "passages": size, "questions": args.questions, "threads": threads}
                results["measurements"][f"search {size}"] = measure(task, arguments, args.runs, _log)
        else:
            arguments = {
                "encoding": {"questions": args.questions},
                "build": {"passages": args.passages},
                "startup": {"work": str(work)},
            }[task]
            results["measurements"][task] = measure(task, arguments, args.runs, _log)
    results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    print(format_report(results))
    if args.out:
        write_results(args.out, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
