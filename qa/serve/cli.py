"""The `qa` command line: build an index, ask questions, describe an index, evaluate retrieval.

Exit codes: 0 success, 1 an error the user can act on (one `error: …` line), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.errors import QAError
from qa.settings import __version__

if TYPE_CHECKING:
    from qa.models.selftrain import TrainSettings

DEFAULT_CORPUS = os.environ.get("QA_CORPUS", "corpus")
DEFAULT_INDEX = os.environ.get("QA_INDEX", "index")


class _UserMessages(logging.Handler):
    """Library warnings as one plain line each on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not message.startswith("skipped "):
            message = f"{record.levelname.lower()}: {message}"
        print(message, file=sys.stderr)


def setup_logging() -> None:
    logger = logging.getLogger("qa")
    if not any(isinstance(handler, _UserMessages) for handler in logger.handlers):
        logger.addHandler(_UserMessages(logging.INFO))
    logger.setLevel(logging.INFO)
    logger.propagate = False


def _training_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--train-seconds",
        type=float,
        default=None,
        metavar="S",
        help="time budget for training a model on the corpus (--model self; default: 60)",
    )
    command.add_argument("--seed", type=int, default=0, help="seed for training a model on the corpus (default: 0)")


def _training(args: argparse.Namespace) -> TrainSettings:
    from qa.models.selftrain import TrainSettings

    if args.train_seconds is not None and not 0 < args.train_seconds <= 86_400:
        raise _Usage("--train-seconds must be more than 0 and at most 86400")
    if not 0 <= args.seed < 2**32:
        raise _Usage("--seed must be a whole number from 0 to 4294967295")
    if args.train_seconds is None:
        return TrainSettings(seed=args.seed)
    return TrainSettings(seconds=args.train_seconds, seed=args.seed)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="Cited answers from a folder of news articles.")
    parser.add_argument("--version", action="version", version=f"qa {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="index a corpus folder", description="Index a corpus folder.")
    build.add_argument(
        "--corpus", type=Path, default=Path(DEFAULT_CORPUS), help="articles folder (default: %(default)s)"
    )
    build.add_argument("--index", type=Path, default=Path(DEFAULT_INDEX), help="index folder (default: %(default)s)")
    build.add_argument(
        "--model",
        default=None,
        metavar="ID|PATH",
        help="sentence-transformers model id or folder; 'self' trains one on the corpus; 'none' for keywords "
        "only (default: BAAI/bge-small-en-v1.5, or a corpus-trained model when it cannot be loaded and the "
        "corpus is large enough)",
    )
    _training_options(build)
    build.add_argument("--require-dense", action="store_true", help="fail if the model cannot be loaded")
    build.add_argument("--strict", action="store_true", help="fail on any file that cannot be used")
    build.add_argument(
        "--approximate-above",
        type=int,
        default=None,
        metavar="N",
        help="use an approximate vector index above N passages (default: 50000)",
    )
    build.add_argument(
        "--full", action="store_true", help="embed every passage again instead of reusing the previous index's vectors"
    )

    ask = commands.add_parser("ask", help="ask a question", description="Ask a question of an index.")
    ask.add_argument("question", nargs="?", help="the question (or use --batch FILE)")
    ask.add_argument(
        "--batch", type=Path, metavar="FILE", help="questions, one per line (or .jsonl with a 'question' field)"
    )
    ask.add_argument("-k", type=int, default=5, help="how many passages (default: %(default)s)")
    ask.add_argument("--index", type=Path, default=Path(DEFAULT_INDEX), help="index folder (default: %(default)s)")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    ask.add_argument("--outlet", action="append", default=None, metavar="NAME", help="only this outlet (repeatable)")
    ask.add_argument("--date-from", metavar="YYYY-MM-DD", help="only articles published on or after this day")
    ask.add_argument("--date-to", metavar="YYYY-MM-DD", help="only articles published on or before this day")
    ask.add_argument("--mode", choices=("lexical", "dense", "hybrid"), help="search method (default: the index's)")
    ask.add_argument("--rerank", action="store_true", help="rescore the top candidates with a cross-encoder")
    ask.add_argument(
        "--reranker",
        metavar="ID|PATH",
        help="CrossEncoder model id or folder for --rerank (default: cross-encoder/ms-marco-MiniLM-L6-v2)",
    )

    evaluate = commands.add_parser(
        "eval",
        help="measure retrieval quality on a BEIR folder or a SQuAD v1.1 file",
        description="Index an evaluation dataset with the product's code and report nDCG@10, Recall@1/5/10/100, "
        "MRR@10 and queries per second per search mode.",
    )
    evaluate.add_argument("dataset", type=Path, help="a BEIR folder or a SQuAD v1.1 JSON file")
    evaluate.add_argument(
        "--mode",
        choices=("lexical", "dense", "hybrid", "rerank", "all"),
        action="append",
        help="search mode to evaluate, repeatable; all = every mode that can run (default: lexical)",
    )
    evaluate.add_argument(
        "--model",
        metavar="ID|PATH",
        help="sentence-transformers model for dense/hybrid, or 'self' to train one on the dataset "
        "(default: BAAI/bge-small-en-v1.5)",
    )
    _training_options(evaluate)
    evaluate.add_argument(
        "--reranker", metavar="ID|PATH", help="CrossEncoder for rerank (default: cross-encoder/ms-marco-MiniLM-L6-v2)"
    )
    evaluate.add_argument("--rerank-depth", type=int, metavar="N", help="candidates the cross-encoder rescores (20)")
    evaluate.add_argument("--split", help="BEIR qrels split (default: test)")
    evaluate.add_argument("--articles", metavar="RANGE", help="SQuAD: only the questions of these articles, e.g. 1-24")
    evaluate.add_argument(
        "--lexical",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a BM25 setting for this run, e.g. k1=1.2 (repeatable; see qa/index/lexical.py)",
    )
    evaluate.add_argument(
        "--confidence",
        action="store_true",
        help="also measure the 'confident' rule: the questions asked with and without their source in the corpus",
    )
    evaluate.add_argument("--json", action="store_true", help="print the figures as one JSON object")

    info = commands.add_parser("info", help="describe an index", description="Describe an index.")
    info.add_argument("--index", type=Path, default=Path(DEFAULT_INDEX), help="index folder (default: %(default)s)")
    info.add_argument("--json", action="store_true", help="print the manifest as JSON")
    info.add_argument("--verify", action="store_true", help="re-hash every index file against the manifest")
    return parser


def _build(args: argparse.Namespace) -> None:
    from qa.index.build import DenseSettings, build_index
    from qa.models.encoder import DEFAULT_MODEL

    if args.approximate_above is not None and args.approximate_above < 0:
        raise _Usage("--approximate-above must be 0 or more")
    dense = DenseSettings()
    if args.approximate_above is not None:
        dense = DenseSettings(approximate_above=args.approximate_above)
    report = build_index(
        args.corpus,
        args.index,
        model=args.model if args.model is not None else DEFAULT_MODEL,
        require_dense=args.require_dense,
        strict=args.strict,
        progress=sys.stderr.isatty(),
        dense=dense,
        reuse_vectors=not args.full,
        training=_training(args),
        auto_self=args.model is None,  # never in place of a model the user named
    )
    manifest = report.manifest
    skipped = f", skipped {len(report.skipped)} file(s)" if report.skipped else ""
    reused = ""
    if manifest.vectors and report.vectors_reused:
        reused = f"; reused {report.vectors_reused:,} passage vectors, embedded {manifest.vectors['embedded']:,}"
    print(
        f"Indexed {manifest.articles} articles as {manifest.passages} passages into {args.index} "
        f"({manifest.mode} search{skipped}{reused}) in {sum(report.seconds.values()):.1f} s."
    )
    if manifest.model is not None:
        print(f"Semantic layer: {manifest.semantic_layer()}.")


def _questions(args: argparse.Namespace) -> list[tuple[str | None, str | None]]:
    """(question, error) pairs in input order."""
    if args.batch is None:
        if args.question is None:
            raise _Usage("give a question, or --batch FILE")
        return [(args.question, None)]
    if args.question is not None:
        raise _Usage("give either a question or --batch FILE, not both")
    try:
        lines = args.batch.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise QAError(f"Cannot read {args.batch}: {getattr(error, 'strerror', None) or error}.") from None
    if args.batch.suffix.lower() != ".jsonl":
        return [(line, None) for line in lines if line.strip()]
    found: list[tuple[str | None, str | None]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            question = record["question"] if isinstance(record, dict) else None
        except (json.JSONDecodeError, KeyError):
            question = None
        if isinstance(question, str):
            found.append((question, None))
        else:
            found.append((None, f"{args.batch}:{number} has no 'question' field"))
    return found


class _Usage(Exception):
    pass


def _ask(args: argparse.Namespace) -> int:
    from qa.search.retriever import Retriever, clean_question
    from qa.serve.render import format_answer

    questions = _questions(args)
    retriever = Retriever.load(args.index, **({"reranker": args.reranker} if args.reranker else {}))
    outcomes: list[Any] = []  # an Answer, or the QAError that question got
    asked: list[str] = []
    for question, problem in questions:
        try:
            if problem:
                raise QAError(problem)
            clean_question(question)
            asked.append(question or "")
            outcomes.append(None)
        except QAError as error:
            if args.batch is None:
                raise
            outcomes.append(error)
    answers = iter(
        retriever.ask_many(
            asked,
            args.k,
            outlets=args.outlet,
            date_from=args.date_from,
            date_to=args.date_to,
            mode=args.mode,
            rerank=args.rerank,
        )
    )
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    for number, ((question, _), outcome) in enumerate(zip(questions, outcomes)):
        if isinstance(outcome, QAError):
            print(
                json.dumps({"question": question, "error": str(outcome)}, ensure_ascii=False)
                if args.json
                else f"{chr(10) if number else ''}Q: {question}\nerror: {outcome}"
            )
            continue
        answer = next(answers)
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False))
        else:
            print(("\n" if number else "") + format_answer(answer, color))
    failed = sum(isinstance(outcome, QAError) for outcome in outcomes)
    return 1 if failed and failed == len(outcomes) else 0


def _eval(args: argparse.Namespace) -> None:
    from qa.evaluate.evaldata import load_eval_set
    from qa.evaluate.evaluation import evaluate, format_report
    from qa.index.lexical import LexicalSettings
    from qa.models.encoder import DEFAULT_MODEL

    modes = args.mode or ["lexical"]
    settings = LexicalSettings().with_overrides(args.lexical)
    eval_set = load_eval_set(args.dataset, split=args.split, articles=args.articles)
    needs_model = args.model is not None or any(mode in ("dense", "hybrid", "all") for mode in modes)
    report = evaluate(
        eval_set,
        modes,
        model=(args.model or DEFAULT_MODEL) if needs_model else None,
        reranker=args.reranker,
        rerank_depth=args.rerank_depth,
        lexical=settings,
        training=_training(args),
    )
    data, text = report.to_dict(), format_report(report)
    if args.confidence:
        from qa.evaluate.calibration import calibrate, format_calibration

        model = (args.model or DEFAULT_MODEL) if needs_model else None
        results = calibrate(
            eval_set,
            list(report.modes),
            model=model,
            reranker=args.reranker,
            lexical=settings,
            training=_training(args),
        )
        data["confidence"] = {mode: result.to_dict() for mode, result in results.items()}
        text += "\n" + format_calibration(results)
    print(json.dumps(data, ensure_ascii=False) if args.json else text)


def _info(args: argparse.Namespace) -> None:
    from qa.index.store import open_manifest
    from qa.serve.render import format_manifest

    manifest = open_manifest(args.index, full_check=args.verify)
    print(
        json.dumps(manifest.to_dict(), indent=2, ensure_ascii=False)
        if args.json
        else format_manifest(manifest, str(args.index))
    )
    if args.verify:
        print(f"verified: all {len(manifest.files)} index files match their sha256 in the manifest", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    setup_logging()
    try:
        if args.command == "build":
            _build(args)
        elif args.command == "ask":
            return _ask(args)
        elif args.command == "eval":
            _eval(args)
        elif args.command == "info":
            _info(args)
    except _Usage as problem:
        print(f"usage: qa {args.command} …\nqa {args.command}: error: {problem}", file=sys.stderr)
        return 2
    except QAError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


def run() -> Any:
    try:
        sys.exit(main())
    except BrokenPipeError:  # `qa ask … | head`: the reader left; no traceback, and the shell's code for it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)
