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
from typing import TYPE_CHECKING, Any, NoReturn

from qa.errors import QAError
from qa.models.bundled import BUNDLED_MODEL
from qa.search.syntax import SYNTAX_HELP
from qa.serve.export import FORMATS
from qa.serve.hints import error_line
from qa.serve.streams import OutputError, finish_output, guard_streams, silence_stdout
from qa.settings import (
    APPROXIMATE_ABOVE,
    DEFAULT_K,
    DEFAULT_OCR_LANGUAGE,
    DEFAULT_RERANKER,
    DEFAULT_SPLIT,
    EVAL_MODES,
    MODES,
    RERANK_DEPTH,
    SEMANTIC_MODES,
    TRAIN_SECONDS,
    __version__,
)

if TYPE_CHECKING:
    from qa.index.qdrant import QdrantSettings
    from qa.models.selftrain import TrainSettings
    from qa.serve.batch import BatchItem

DEFAULT_CORPUS = os.environ.get("QA_CORPUS", "corpus")
DEFAULT_INDEX = os.environ.get("QA_INDEX", "index")
EVAL_COLLECTION = "qa-eval"  # the Qdrant aliases `qa eval --backend qdrant` builds under start so
DEFAULT_MARKS = "(your marks file)"  # `qa eval --marks` without FILE: $QA_MARKS or the user data folder


class _UserMessages(logging.Handler):
    """Library warnings as one plain line each on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not message.startswith("skipped "):
            message = f"{record.levelname.lower()}: {message}"
        print(message, file=sys.stderr)

    def handleError(self, record: logging.LogRecord) -> None:
        pass  # stderr is closed or full: there is nowhere to say anything


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
        help=f"time budget for training a model on the corpus (--model self; default: {TRAIN_SECONDS:g})",
    )
    command.add_argument(
        "--seed", type=int, default=0, help="seed for training a model on the corpus (default: %(default)s)"
    )


def _training(args: argparse.Namespace) -> TrainSettings:
    from qa.models.selftrain import TrainSettings

    if args.train_seconds is not None and not 0 < args.train_seconds <= 86_400:
        raise _Usage("--train-seconds must be more than 0 and at most 86400")
    if not 0 <= args.seed < 2**32:
        raise _Usage("--seed must be a whole number from 0 to 4294967295")
    if args.train_seconds is None:
        return TrainSettings(seed=args.seed)
    return TrainSettings(seconds=args.train_seconds, seed=args.seed)


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors that say where the options are listed."""

    commands: argparse._SubParsersAction | None = None  # the subcommands' parsers, by name

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message.rstrip('.')}. See `{self.prog} --help`.\n")


def folder(text: str) -> Path:
    """A folder argument; an empty one (``--index ""``) would silently mean the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty; give the folder's name")
    return Path(text)


def _parser() -> Parser:
    parser = Parser(prog="qa", description="Cited answers from a folder of news articles.")
    parser.add_argument("--version", action="version", version=f"qa {__version__}")
    commands = parser.commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="index a corpus folder", description="Index a corpus folder.")
    build.add_argument(
        "--corpus", type=folder, default=Path(DEFAULT_CORPUS), help="articles folder (default: %(default)s)"
    )
    build.add_argument("--index", type=folder, default=Path(DEFAULT_INDEX), help="index folder (default: %(default)s)")
    build.add_argument(
        "--model",
        default=None,
        metavar="ID|PATH",
        help="sentence-transformers model id or folder; 'self' trains one on the corpus; 'none' for keywords "
        f"only (default: {BUNDLED_MODEL}, installed with qa and verified; a corpus-trained "
        "model when it cannot be loaded and the corpus is large enough)",
    )
    _training_options(build)
    build.add_argument("--require-dense", action="store_true", help="fail if the model cannot be loaded")
    build.add_argument("--strict", action="store_true", help="fail on any file that cannot be used")
    build.add_argument(
        "--approximate-above",
        type=int,
        default=None,
        metavar="N",
        help=f"use an approximate vector index above N passages (default: {APPROXIMATE_ABOVE})",
    )
    build.add_argument(
        "--full", action="store_true", help="embed every passage again instead of reusing the previous index's vectors"
    )
    build.add_argument(
        "--no-sentences",
        action="store_true",
        help="do not embed each passage's sentences (the default model also scores a passage by its best "
        "sentence; without them embedding takes about 60%% less time and search uses the passages' vectors alone)",
    )
    build.add_argument(
        "--ocr-lang",
        default=DEFAULT_OCR_LANGUAGE,
        metavar="LANG",
        help="Tesseract language(s) for scanned PDF pages, e.g. fra or eng+ara (default: %(default)s; "
        "others: apt-get install tesseract-ocr-LANG)",
    )
    build.add_argument(
        "--no-ocr", action="store_true", help="do not OCR scanned PDF pages (they are listed as skipped)"
    )
    build.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="where the build runs: this process, or a Ray cluster (pip install 'news-qa[ray]'; see docs/scale.md)",
    )
    build.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="the Ray cluster for --engine ray, e.g. auto or ray://head:10001 (default: start Ray on this machine)",
    )
    build.add_argument(
        "--ray-actors", type=int, metavar="N", help="encoder actors for --engine ray (default: one per GPU, else CPU)"
    )
    build.add_argument("--batch-size", type=int, metavar="N", help="passages per encoder call (default: 32)")
    build.add_argument(
        "--backend",
        choices=("local", "qdrant"),
        default="local",
        help="what searches the passages: files in the index folder, or a Qdrant collection "
        "(pip install 'news-qa[qdrant]'; see docs/scale.md)",
    )
    build.add_argument("--qdrant-url", metavar="URL", help="the Qdrant server for --backend qdrant ($QDRANT_API_KEY)")
    build.add_argument(
        "--qdrant-path", type=Path, metavar="DIR", help="a folder for Qdrant's local mode, instead of a server"
    )
    build.add_argument(
        "--collection",
        metavar="NAME",
        help="the Qdrant alias the build points at its new collection (default: news-qa)",
    )
    build.add_argument(
        "--qdrant-sparse",
        choices=("idf", "bm25"),
        default="idf",
        help="sparse vector weights: tf parts with Qdrant's IDF modifier, or our BM25 weights (default: %(default)s)",
    )

    ask = commands.add_parser(
        "ask",
        help="ask a question",
        description="Ask a question of an index.",
        epilog=SYNTAX_HELP + " Example: qa ask '\"Federal Investigation Agency\" arrests -Beijing' "
        "(a question that starts with - goes after --: qa ask -- '-Beijing trafficking').",
    )
    ask.add_argument("question", nargs="?", help="the question (or use --batch FILE)")
    ask.add_argument(
        "--batch",
        type=Path,
        metavar="FILE",
        help="questions from a file: .csv with id,question columns, .jsonl with 'question' (and 'id'), "
        "or one per line ('#' lines are comments); exits 1 if any question failed",
    )
    ask.add_argument("-k", type=int, default=DEFAULT_K, help="how many passages (default: %(default)s)")
    ask.add_argument("--index", type=folder, default=Path(DEFAULT_INDEX), help="index folder (default: %(default)s)")
    ask.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="text (default), json (one object per question), csv (one row per hit), markdown (a report)",
    )
    ask.add_argument("--json", action="store_true", help="same as --format json")
    ask.add_argument("--outlet", action="append", default=None, metavar="NAME", help="only this outlet (repeatable)")
    ask.add_argument("--date-from", metavar="YYYY-MM-DD", help="only articles published on or after this day")
    ask.add_argument("--date-to", metavar="YYYY-MM-DD", help="only articles published on or before this day")
    ask.add_argument(
        "--include-undated",
        action="store_true",
        help="with --date-from/--date-to, also search articles that have no date (otherwise they are left out "
        "and counted: a line in text and Markdown output, undated_excluded in JSON)",
    )
    ask.add_argument(
        "--no-collapse",
        action="store_true",
        help="show every wire copy as its own hit (default: the best copy, with the others in also_in)",
    )
    ask.add_argument(
        "--no-audit",
        action="store_true",
        help="do not add these questions to the audit log ($QA_AUDIT_LOG, else ~/.local/share/news-qa/audit.jsonl)",
    )
    ask.add_argument("--mode", choices=MODES, help="search method (default: the index's)")
    ask.add_argument("--rerank", action="store_true", help="rescore the top candidates with a cross-encoder")
    ask.add_argument(
        "--reranker",
        metavar="ID|PATH",
        help=f"CrossEncoder model id or folder for --rerank (default: {DEFAULT_RERANKER})",
    )

    evaluate = commands.add_parser(
        "eval",
        help="measure retrieval quality on a BEIR folder or a SQuAD v1.1 file",
        description="Index an evaluation dataset with the product's code and report nDCG@10, Recall@1/5/10/100, "
        "MRR@10 and queries per second per search mode. With --marks, score a built index on your own "
        "relevance marks instead.",
    )
    evaluate.add_argument("dataset", type=Path, nargs="?", help="a BEIR folder or a SQuAD v1.1 JSON file")
    evaluate.add_argument(
        "--marks",
        type=Path,
        nargs="?",
        const=DEFAULT_MARKS,
        metavar="FILE",
        help="evaluate the index (--index) on the questions of a relevance-marks file "
        "(default file: $QA_MARKS, else ~/.local/share/news-qa/marks.jsonl)",
    )
    evaluate.add_argument(
        "--index", type=folder, default=Path(DEFAULT_INDEX), help="index folder for --marks (default: %(default)s)"
    )
    evaluate.add_argument(
        "--mode",
        choices=(*EVAL_MODES, "all"),
        action="append",
        help="search mode to evaluate, repeatable; all = every mode that can run "
        "(default: lexical; with --marks, the index's mode)",
    )
    evaluate.add_argument(
        "--model",
        metavar="ID|PATH",
        help="sentence-transformers model for dense/hybrid, or 'self' to train one on the dataset "
        f"(default: {BUNDLED_MODEL}, installed with qa)",
    )
    _training_options(evaluate)
    evaluate.add_argument(
        "--reranker", metavar="ID|PATH", help=f"CrossEncoder for rerank (default: {DEFAULT_RERANKER})"
    )
    evaluate.add_argument(
        "--rerank-depth", type=int, metavar="N", help=f"candidates the cross-encoder rescores ({RERANK_DEPTH})"
    )
    evaluate.add_argument("--split", help=f"BEIR qrels split (default: {DEFAULT_SPLIT})")
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
    evaluate.add_argument(
        "--keep-index",
        type=Path,
        metavar="DIR",
        help="build the evaluation index in DIR and keep it; a rerun with the same model reuses its passage vectors",
    )
    evaluate.add_argument(
        "--backend",
        choices=("local", "qdrant"),
        default="local",
        help="search the evaluation index with this backend (qdrant: --qdrant-url, --qdrant-path, or else "
        "a local-mode folder for this run only; the run's collection is deleted unless --keep-index)",
    )
    evaluate.add_argument("--qdrant-url", metavar="URL", help="a Qdrant server for --backend qdrant")
    evaluate.add_argument("--qdrant-path", type=Path, metavar="DIR", help="a folder for Qdrant's local mode")
    evaluate.add_argument(
        "--qdrant-sparse", choices=("idf", "bm25"), default="idf", help="sparse vector weights (see qa build)"
    )
    evaluate.add_argument("--json", action="store_true", help="print the figures as one JSON object")

    from qa.serve.launch import add_options

    add_options(
        commands.add_parser(
            "serve",
            help="serve the question page in a browser",
            description="Serve the question page (the same as `python app.py`) on http://127.0.0.1:7860; "
            "it builds the index first when there is none.",
        )
    )

    info = commands.add_parser("info", help="describe an index", description="Describe an index.")
    info.add_argument("--index", type=folder, default=Path(DEFAULT_INDEX), help="index folder (default: %(default)s)")
    info.add_argument("--json", action="store_true", help="print the manifest as JSON")
    info.add_argument("--verify", action="store_true", help="re-hash every index file against the manifest")
    return parser


def _qdrant(args: argparse.Namespace) -> QdrantSettings | None:
    """The Qdrant settings ``--backend qdrant`` asks for (None for the local backend); a wrong combination
    of flags is a usage error."""
    given = [flag for flag, value in (("--qdrant-url", args.qdrant_url), ("--qdrant-path", args.qdrant_path)) if value]
    if args.backend != "qdrant":
        if given or args.collection:
            raise _Usage("--qdrant-url, --qdrant-path and --collection need --backend qdrant")
        return None
    if len(given) != 1:
        raise _Usage("--backend qdrant needs one of --qdrant-url URL or --qdrant-path DIR")
    from qa.index.qdrant import QdrantSettings

    path = str(args.qdrant_path.resolve()) if args.qdrant_path else None
    return QdrantSettings(args.qdrant_url, path, args.collection or QdrantSettings.collection, args.qdrant_sparse)


def _build(args: argparse.Namespace) -> None:
    from qa.index.build import BuildOptions, DenseSettings, build_index
    from qa.ingest.formats.ocr import check_language
    from qa.ingest.sources import ReadOptions
    from qa.models.encoder import DEFAULT_MODEL

    if args.approximate_above is not None and args.approximate_above < 0:
        raise _Usage("--approximate-above must be 0 or more")
    dense = DenseSettings()
    if args.approximate_above is not None:
        dense = DenseSettings(approximate_above=args.approximate_above)
    if not args.no_ocr:
        check_language(args.ocr_lang)
    if args.batch_size is not None and args.batch_size < 1:
        raise _Usage("--batch-size must be at least 1")
    if args.ray_actors is not None and args.ray_actors < 1:
        raise _Usage("--ray-actors must be at least 1")
    if args.engine != "ray" and (args.ray_address or args.ray_actors):
        raise _Usage("--ray-address and --ray-actors need --engine ray")
    qdrant = _qdrant(args)
    ray = None
    if args.engine == "ray":
        from qa.index.raybuild import RaySettings

        ray = RaySettings(args.ray_address, args.ray_actors)
    options = BuildOptions(
        model=args.model if args.model is not None else DEFAULT_MODEL,
        require_dense=args.require_dense,
        auto_self=args.model is None,  # never in place of a model the user named
        training=_training(args),
        dense=dense,
        reuse_vectors=not args.full,
        sentences=not args.no_sentences,
        strict=args.strict,
        reading=ReadOptions(ocr=not args.no_ocr, ocr_language=args.ocr_lang),
        progress=sys.stderr.isatty(),
        ray=ray,
        qdrant=qdrant,
        **({"batch_size": args.batch_size} if args.batch_size is not None else {}),
    )
    report = build_index(args.corpus, args.index, options)
    manifest = report.manifest
    skipped = f", skipped {len(report.skipped)} file(s)" if report.skipped else ""
    reused = ""
    if manifest.vectors and report.vectors_reused:
        reused = f"; reused {report.vectors_reused:,} passage vectors, embedded {manifest.vectors.embedded:,}"
    if manifest.sentences:
        reused += f"; {manifest.sentences.count:,} sentence vectors"
    try:
        print(
            f"Indexed {manifest.articles} articles as {manifest.passages} passages into {args.index} "
            f"({manifest.mode} search{skipped}{reused}) in {sum(report.seconds.values()):.1f} s."
        )
        if manifest.model is not None:
            print(f"Semantic layer: {manifest.semantic_layer()}.")
        sys.stdout.flush()
    except OutputError as error:  # the index is built and in place; only the summary is lost
        print(f"warning: the index at {args.index} was built; its summary was not printed ({error}).", file=sys.stderr)


def _batch_items(args: argparse.Namespace) -> list[BatchItem]:
    from qa.serve.batch import BatchItem, read_batch

    if args.batch is None:
        if args.question is None:
            raise _Usage("give a question, or --batch FILE")
        return [BatchItem("question", args.question)]
    if args.question is not None:
        raise _Usage("give either a question or --batch FILE, not both")
    return read_batch(args.batch)


class _Usage(Exception):
    pass


def _check_dates(args: argparse.Namespace) -> None:
    """The date flags, checked before the index is opened so that an error names the flag as typed
    (the library's message names its Python argument, date_from)."""
    from qa.errors import InvalidRequestError
    from qa.search.request import parse_date

    start, end = parse_date(args.date_from, "--date-from"), parse_date(args.date_to, "--date-to")
    if start and end and start > end:
        raise InvalidRequestError(f"--date-from {start} is after --date-to {end}; swap them.", option="date_from")


def _ask(args: argparse.Namespace) -> int:
    from qa.search.retriever import Retriever
    from qa.serve.audit import AuditLog
    from qa.serve.batch import ask_batch, failure_summary
    from qa.serve.export import Asked, to_csv, to_json_lines, to_markdown
    from qa.serve.render import format_asked

    output = args.format or ("json" if args.json else "text")
    if args.json and args.format not in (None, "json"):
        raise _Usage(f"--json and --format {args.format} disagree; give one of them")
    _check_dates(args)
    items = _batch_items(args)
    retriever = Retriever.load(args.index, **({"reranker": args.reranker} if args.reranker else {}))
    options = {
        "outlets": args.outlet,
        "date_from": args.date_from,
        "date_to": args.date_to,
        "include_undated": args.include_undated,
        "mode": args.mode,
        "rerank": args.rerank,
        "collapse": not args.no_collapse,
    }
    if args.batch is None:  # a single question's error is the command's error
        question = items[0].question or ""
        results = [Asked(question, retriever.ask_many([question], args.k, **options)[0])]
    else:
        results = ask_batch(retriever, items, args.k, **options)
    if output == "json":
        sys.stdout.write(to_json_lines(results))
    elif output == "csv":
        sys.stdout.write(to_csv(results))
    elif output == "markdown":
        sys.stdout.write(to_markdown(results))
    else:
        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        print("\n\n".join(format_asked(result, color) for result in results))
    audit = None if args.no_audit else AuditLog.default()
    if audit is not None:
        for answer in (result.answer for result in results if result.answer is not None):
            audit.record(answer, source="cli", retriever=retriever, options=options, k=args.k)
    summary = failure_summary(items, results)
    if summary:
        print(f"error: {summary}", file=sys.stderr)
        return 1
    return 0


def _eval(args: argparse.Namespace) -> None:
    from qa.evaluate.evaldata import load_eval_set
    from qa.evaluate.evaluation import evaluate, format_report
    from qa.index.lexical import LexicalSettings
    from qa.index.options import BuildOptions
    from qa.models.encoder import DEFAULT_MODEL

    if args.marks is not None:
        return _eval_marks(args)
    if args.dataset is None:
        raise _Usage("give a DATASET, or --marks [FILE] to evaluate an index on your relevance marks")
    modes = args.mode or ["lexical"]
    settings = LexicalSettings().with_overrides(args.lexical)
    eval_set = load_eval_set(args.dataset, split=args.split, articles=args.articles)
    needs_model = args.model is not None or any(mode in (*SEMANTIC_MODES, "all") for mode in modes)
    building = BuildOptions(
        model=(args.model or DEFAULT_MODEL) if needs_model else None,
        lexical=settings,
        training=_training(args),
        qdrant=_eval_qdrant(args),
    )
    report = evaluate(
        eval_set,
        modes,
        building,
        reranker=args.reranker,
        rerank_depth=args.rerank_depth,
        keep_dir=args.keep_index,
    )
    data, text = report.to_dict(), format_report(report)
    if args.confidence:
        from qa.evaluate.calibration import calibrate, format_calibration

        results = calibrate(eval_set, list(report.modes), building, reranker=args.reranker, keep_dir=args.keep_index)
        data["confidence"] = {mode: result.to_dict() for mode, result in results.items()}
        text += "\n" + format_calibration(results)
    print(json.dumps(data, ensure_ascii=False) if args.json else text)


def _eval_qdrant(args: argparse.Namespace) -> QdrantSettings | None:
    """Qdrant for an evaluation index: the server or local folder given, else a local-mode folder for this run."""
    given = [flag for flag, value in (("--qdrant-url", args.qdrant_url), ("--qdrant-path", args.qdrant_path)) if value]
    if args.backend != "qdrant":
        if given:
            raise _Usage("--qdrant-url and --qdrant-path need --backend qdrant")
        return None
    if len(given) > 1:
        raise _Usage("give one of --qdrant-url URL and --qdrant-path DIR")
    if args.confidence:
        raise _Usage("--confidence measures the local backend; leave out --backend qdrant")
    if args.keep_index and not given:
        raise _Usage("--keep-index with --backend qdrant needs --qdrant-url or --qdrant-path (where it stays)")
    import hashlib
    import os
    import secrets

    from qa.index.qdrant import QdrantSettings

    # One alias per kept index folder (a rerun replaces its own collection), one per run otherwise: a run
    # never moves another run's alias, which would delete the collection that run (or a kept index) reads.
    if args.keep_index:
        tail = hashlib.sha256(str(args.keep_index.resolve()).encode()).hexdigest()[:12]
    else:
        tail = f"{os.getpid()}-{secrets.token_hex(3)}"
    alias = f"{EVAL_COLLECTION}-{tail}"
    if args.qdrant_url:
        return QdrantSettings(url=args.qdrant_url, collection=alias, sparse=args.qdrant_sparse)
    if args.qdrant_path:
        folder = str(args.qdrant_path.resolve())
    else:
        import atexit
        import shutil
        import tempfile

        folder = tempfile.mkdtemp(prefix="qa-eval-qdrant-")
        # registered before the client's own close (atexit runs last-in first-out): closed, then removed
        atexit.register(shutil.rmtree, folder, True)
    return QdrantSettings(path=folder, collection=alias, sparse=args.qdrant_sparse)


def _eval_marks(args: argparse.Namespace) -> None:
    from qa.evaluate.evaluation import format_report
    from qa.evaluate.marks import default_marks_path, evaluate_marks

    if args.dataset is not None:
        raise _Usage("give a DATASET or --marks, not both")
    dataset_only = {"--model": args.model, "--split": args.split, "--articles": args.articles}
    dataset_only.update({"--lexical": args.lexical, "--confidence": args.confidence})
    given = [flag for flag, value in dataset_only.items() if value]
    if given:
        raise _Usage(f"{given[0]} applies to a dataset; --marks evaluates the index as it was built")
    report = evaluate_marks(
        default_marks_path() if args.marks == Path(DEFAULT_MARKS) else args.marks,
        args.index,
        args.mode,
        reranker=args.reranker,
        rerank_depth=args.rerank_depth,
    )
    print(json.dumps(report.to_dict(), ensure_ascii=False) if args.json else format_report(report))


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
        print(f"verified: all {len(manifest.files)} index files match their sha256 in the manifest")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # reported by the command they were given to, so its --help is the one named
        owner = parser.commands.choices.get(args.command, parser) if parser.commands else parser
        owner.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "serve":
        from qa.serve.launch import serve

        return serve(args)
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
        print(f"qa {args.command}: error: {str(problem).rstrip('.')}. See `qa {args.command} --help`.", file=sys.stderr)
        return 2
    except QAError as error:
        print(f"error: {error_line(error, getattr(args, 'index', None))}", file=sys.stderr)
        return 1
    except OutputError as error:
        print(f"error: {error}.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


def run() -> Any:
    guard_streams()  # closed or full standard streams: one line, never a traceback
    try:
        code = main()
        finish_output()
    except BrokenPipeError:  # `qa ask … | head`: the reader left; no traceback, and the shell's code for it
        silence_stdout()
        sys.exit(141)
    except OutputError as error:
        print(f"error: {error}.", file=sys.stderr)
        sys.exit(1)
    sys.exit(code)
