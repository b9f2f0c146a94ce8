"""The `qa` command line: build an index, ask questions, describe an index.

Exit codes: 0 success, 1 an error the user can act on (one `error: …` line), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from qa import __version__
from qa.errors import QAError

DEFAULT_CORPUS = os.environ.get("QA_CORPUS", "corpus")
DEFAULT_INDEX = os.environ.get("QA_INDEX", "index")


class _UserMessages(logging.Handler):
    """Library warnings as one plain line each on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not message.startswith("skipped "):
            message = f"{record.levelname.lower()}: {message}"
        print(message, file=sys.stderr)


def _setup_logging() -> None:
    logger = logging.getLogger("qa")
    if not any(isinstance(handler, _UserMessages) for handler in logger.handlers):
        logger.addHandler(_UserMessages(logging.INFO))
    logger.setLevel(logging.INFO)
    logger.propagate = False


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
        help="sentence-transformers model id or folder, or 'none' (default: BAAI/bge-small-en-v1.5)",
    )
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

    info = commands.add_parser("info", help="describe an index", description="Describe an index.")
    info.add_argument("--index", type=Path, default=Path(DEFAULT_INDEX), help="index folder (default: %(default)s)")
    info.add_argument("--json", action="store_true", help="print the manifest as JSON")
    return parser


def _build(args: argparse.Namespace) -> None:
    from qa.builder import DenseSettings, build_index
    from qa.encoder import DEFAULT_MODEL

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
    from qa.render import format_answer
    from qa.retriever import Retriever, clean_question

    questions = _questions(args)
    retriever = Retriever.load(args.index)
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
            asked, args.k, outlets=args.outlet, date_from=args.date_from, date_to=args.date_to, mode=args.mode
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


def _info(args: argparse.Namespace) -> None:
    from qa.render import format_manifest
    from qa.store import open_manifest

    manifest = open_manifest(args.index)
    print(
        json.dumps(manifest.to_dict(), indent=2, ensure_ascii=False)
        if args.json
        else format_manifest(manifest, str(args.index))
    )


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _setup_logging()
    try:
        if args.command == "build":
            _build(args)
        elif args.command == "ask":
            return _ask(args)
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
    sys.exit(main())
