"""`qa build`: corpus folder → articles → passages → lexical and dense indexes → index folder."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from qa import __version__
from qa.catalog import ARTICLES_FILE, PASSAGES_FILE, write_catalog
from qa.chunking import DEFAULT_MAX_TOKENS, estimate_tokens, split_passages
from qa.corpus import load_corpus
from qa.dense import DENSE_FILE, DenseIndex
from qa.encoder import DEFAULT_MODEL, ENABLE_HINT, Encoder, load_encoder
from qa.errors import ModelUnavailableError
from qa.lexical import LEXICAL_DIR, LexicalIndex, LexicalSettings
from qa.manifest import Manifest, file_record, library_versions
from qa.records import Article, Passage, Skip
from qa.store import staged_index

NO_MODEL = ("none", "")
log = logging.getLogger("qa")


@dataclass
class BuildReport:
    """What a build did, for people (the CLI prints it) and for benchmarks (stage timings)."""

    index_dir: Path
    manifest: Manifest
    seconds: dict[str, float] = field(default_factory=dict)
    skipped: list[Skip] = field(default_factory=list)

    @property
    def semantic_on(self) -> bool:
        return self.manifest.model is not None


def passage_document(article: Article, passage: Passage, title_repeats: int = 1) -> str:
    """The string indexed for a passage: its article's title (context for every paragraph), then its text."""
    title = (article.title + "\n") * title_repeats if article.title else ""
    return title + passage.text


def _resolve_encoder(model: str | Encoder | None, require_dense: bool) -> tuple[Encoder | None, str | None]:
    if isinstance(model, Encoder):
        return model, None
    if model is None or model.strip().lower() in NO_MODEL:
        if require_dense:
            raise ModelUnavailableError("--require-dense needs a model; --model none turns semantic search off.")
        return None, "semantic search was turned off (--model none)"
    try:
        return load_encoder(model), None
    except ModelUnavailableError as error:
        if require_dense:
            raise
        log.warning("semantic search is off: %s %s", error, ENABLE_HINT)
        return None, str(error)


def build_index(
    corpus_dir: Path | str,
    index_dir: Path | str,
    model: str | Encoder | None = DEFAULT_MODEL,
    require_dense: bool = False,
    strict: bool = False,
    lexical: LexicalSettings | None = None,
    progress: bool = False,
) -> BuildReport:
    """Build an index of the articles in ``corpus_dir`` into ``index_dir``.

    ``index_dir`` is replaced only when the build succeeds. Semantic search needs ``model``;
    when it cannot be loaded the build still produces a lexical index and says why in the
    manifest, unless ``require_dense`` makes that an error.
    """
    corpus_dir = Path(corpus_dir)
    started = time.perf_counter()
    load = load_corpus(corpus_dir, strict=strict)
    loaded = time.perf_counter() - started
    report = index_articles(
        load.articles,
        index_dir,
        model=model,
        require_dense=require_dense,
        lexical=lexical,
        progress=progress,
        corpus={"path": str(corpus_dir.resolve()), "files": load.files},
    )
    report.seconds = {"load": loaded, **report.seconds}
    report.skipped = load.skipped
    return report


def index_articles(
    articles: list[Article],
    index_dir: Path | str,
    model: str | Encoder | None = DEFAULT_MODEL,
    require_dense: bool = False,
    lexical: LexicalSettings | None = None,
    progress: bool = False,
    split: bool = True,
    corpus: dict[str, object] | None = None,
) -> BuildReport:
    """Index already-loaded articles (what `qa build` and `qa eval` share).

    With ``split`` each paragraph becomes a passage (long ones cut to the model's window);
    without it each article is one passage as given (evaluation datasets come pre-cut).
    """
    index_dir = Path(index_dir)
    settings = lexical or LexicalSettings()
    seconds: dict[str, float] = {}

    started = time.perf_counter()
    encoder, off_reason = _resolve_encoder(model, require_dense)
    seconds["model"] = time.perf_counter() - started

    started = time.perf_counter()
    if encoder is not None and encoder.max_tokens is not None:
        count, max_tokens, counter = encoder.count_tokens, encoder.max_tokens, "model tokenizer"
    else:
        count, max_tokens, counter = estimate_tokens, DEFAULT_MAX_TOKENS, "word estimate"
    by_id = {article.id: article for article in articles}
    passages: list[Passage] = []
    for article in articles:
        if split:
            prefix = article.title + "\n" if article.title else ""
            passages.extend(split_passages(article, count, max_tokens, prefix))
        else:
            passages.append(Passage(article.id, 1, 0, len(article.text), article.text))
    documents = [passage_document(by_id[p.article_id], p) for p in passages]
    seconds["split"] = time.perf_counter() - started

    vectors = None
    if encoder is not None:
        started = time.perf_counter()
        vectors = encoder.encode_passages(documents, progress=progress)
        seconds["embed"] = time.perf_counter() - started

    started = time.perf_counter()
    lexical_documents = (
        documents
        if settings.title_repeats == 1
        else [passage_document(by_id[p.article_id], p, settings.title_repeats) for p in passages]
    )
    lexical_index = LexicalIndex.build(lexical_documents, [p.text for p in passages], settings)
    dense_index = DenseIndex.build(vectors) if vectors is not None else None
    seconds["index"] = time.perf_counter() - started

    started = time.perf_counter()
    manifest = Manifest(
        qa_version=__version__,
        mode="hybrid" if dense_index is not None else "lexical",
        articles=len(articles),
        passages=len(passages),
        lexical=settings.to_dict(),
        chunking={"max_tokens": max_tokens, "token_counter": counter, "title_prefix": True, "split": split},
        corpus=corpus or {"path": None, "files": {}},
        model=encoder.describe() if encoder is not None else None,
        semantic_off_reason=off_reason,
        versions=library_versions(),
    )
    with staged_index(index_dir) as staging:
        write_catalog(staging, articles, passages)
        lexical_index.save(staging)
        if dense_index is not None:
            dense_index.save(staging)
        for path in sorted(p for p in staging.rglob("*") if p.is_file()):
            manifest.files[path.relative_to(staging).as_posix()] = file_record(path)
        manifest.write(staging)
    seconds["write"] = time.perf_counter() - started
    return BuildReport(index_dir, manifest, seconds)


__all__ = [
    "ARTICLES_FILE",
    "DENSE_FILE",
    "LEXICAL_DIR",
    "PASSAGES_FILE",
    "BuildReport",
    "build_index",
    "index_articles",
]
