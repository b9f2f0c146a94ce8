"""`qa build`: corpus folder → articles → passages → lexical and dense indexes → index folder.

:func:`index_articles` runs the stages in order, each taking the one :class:`BuildOptions`:

    split (articles → passages) → model (qa.index.embedding: load, or train on the corpus)
        → embed → lexical index → dense index → manifest → write (staged, swapped in atomically)
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from qa.errors import CorpusError, IndexWriteError, Remedy
from qa.index.catalog import ARTICLES_FILE, PASSAGES_FILE, write_catalog
from qa.index.dense import DENSE_FILE, DenseIndex, DenseSettings
from qa.index.document import MODEL_DIR, passage_document
from qa.index.duplicates import CopyGroups, find_copies
from qa.index.embedding import (
    SELF_MODEL,
    Embedded,
    ModelChoice,
    embed,
    load_model,
    probe_questions,
    train_if_needed,
)
from qa.index.integrity import file_record
from qa.index.lexical import LEXICAL_DIR, LexicalIndex
from qa.index.manifest import ChunkingInfo, CopiesInfo, CorpusInfo, Manifest, VectorsInfo, library_versions
from qa.index.options import BuildOptions
from qa.index.store import (
    OWNER_FILE,
    build_lock,
    check_replaceable,
    corpus_folder_check,
    index_target,
    scratch_folder,
    staged_index,
)
from qa.index.vectorcache import model_key, save_keys
from qa.ingest.chunking import DEFAULT_MAX_TOKENS, estimate_tokens, split_passages
from qa.ingest.corpus import load_corpus
from qa.models.encoder import Encoder
from qa.models.selftrain import SELF_MIN_WORDS
from qa.progress import stage, steps
from qa.records import Article, Passage, Skip
from qa.settings import MODEL_FUSION, RRF_FUSION, FusionSettings, __version__

# The corpus-trained model is fused by min-max normalised score interpolation (weight tuned on
# SciFact train and SQuAD articles 1-24); rank fusion lost to BM25 alone with it.
SELF_FUSION = FusionSettings("interpolation", lexical_weight=0.65)
log = logging.getLogger("qa")


@dataclass
class BuildReport:
    """What a build did, for people (the CLI prints it) and for benchmarks (stage timings)."""

    index_dir: Path
    manifest: Manifest
    seconds: dict[str, float] = field(default_factory=dict)
    skipped: list[Skip] = field(default_factory=list)
    vectors_reused: int = 0  # passage vectors taken from the previous index instead of embedded again

    @property
    def semantic_on(self) -> bool:
        return self.manifest.model is not None


@dataclass
class Passages:
    """The split stage's result: passages, the text indexed for each, and how they were cut."""

    passages: list[Passage]
    documents: list[str]  # passage_document of each passage: what is embedded and hashed for reuse
    chunking: ChunkingInfo


def build_index(
    corpus_dir: Path | str, index_dir: Path | str, options: BuildOptions | None = None, **changes: Any
) -> BuildReport:
    """Build an index of the articles in ``corpus_dir`` into ``index_dir``, as ``options`` say (``changes``
    set single fields: ``build_index(corpus, index, model="none")``).

    ``index_dir`` is replaced only when the build succeeds. Semantic search needs a model; when it
    cannot be loaded the build still produces a lexical index and says why in the manifest, unless
    ``require_dense`` makes that an error (see :class:`BuildOptions` for the rest).
    """
    options = BuildOptions.of(options, **changes)
    corpus_dir = Path(corpus_dir)
    index_dir = index_target(Path(index_dir))
    with build_lock(index_dir):  # one build of an index at a time; a second one fails here, at once
        check_replaceable(index_dir)  # before any work: a folder that is not a qa index is never touched
        _check_apart(corpus_dir, index_dir)
        started = time.perf_counter()
        load = load_corpus(
            corpus_dir,
            strict=options.strict,
            options=replace(options.reading, progress=options.progress),
            skip_folder=corpus_folder_check(index_dir),
        )
        loaded = time.perf_counter() - started
        corpus = CorpusInfo(str(corpus_dir.resolve()), load.files, tuple(load.skipped))
        report = index_articles(load.articles, index_dir, options, corpus=corpus)
    report.seconds = {"load": loaded, **report.seconds}
    report.skipped = load.skipped
    return report


def _check_apart(corpus_dir: Path, index_dir: Path) -> None:
    """The corpus may hold the index (it is skipped when reading), but not be it or lie inside it:
    a build replaces the whole index folder."""
    corpus, index = Path(os.path.realpath(corpus_dir)), Path(os.path.realpath(index_dir))
    if corpus == index or corpus.is_relative_to(index):
        raise IndexWriteError(
            f"The corpus folder {corpus_dir} is {'the index folder' if corpus == index else 'inside the index folder'} "
            f"{index_dir}, which a build replaces.",
            path=index_dir,
            remedy=Remedy.OTHER_INDEX_FOLDER,
        )


def index_articles(
    articles: list[Article],
    index_dir: Path | str,
    options: BuildOptions | None = None,
    *,
    corpus: CorpusInfo | None = None,
    **changes: Any,
) -> BuildReport:
    """Index already-loaded articles (what `qa build` and `qa eval` share); ``corpus`` describes where they
    came from. With ``split`` off each article is one passage as given (evaluation datasets come pre-cut)."""
    options = BuildOptions.of(options, **changes)
    index_dir = Path(index_dir)
    _check_unique_ids(articles)
    seconds: dict[str, float] = {}
    with _timed(seconds, "model"):
        choice = load_model(options)
    with _timed(seconds, "split"):
        split = split_articles(articles, choice.encoder, options)
    with contextlib.ExitStack() as cleanup:
        started = time.perf_counter()
        choice = train_if_needed(choice, split.passages, {a.id: a for a in articles}, index_dir, options, cleanup)
        if choice.tried_training:
            seconds["train"] = time.perf_counter() - started
        embedded = None
        if choice.encoder is not None:
            with _timed(seconds, "embed"):
                embedded = embed(choice.encoder, _info(choice), split.documents, index_dir, options)
        with _timed(seconds, "lexical"):
            lexical = build_lexical(articles, split, index_dir, options)
        copies = None
        if options.duplicates is not None:
            with _timed(seconds, "duplicates"):
                copies = group_copies(articles, split, options)
        dense = None
        if choice.encoder is not None and embedded is not None:
            with _timed(seconds, "dense"):
                dense = build_dense(choice.encoder, embedded, split.passages, options)
        with _timed(seconds, "write"):
            manifest = describe(articles, split, choice, embedded, dense, copies, options, corpus)
            built = Built(split.passages, lexical, dense, embedded, copies, choice)
            write_index(index_dir, manifest, articles, built, options)
        return BuildReport(index_dir, manifest, seconds, vectors_reused=embedded.reused if embedded else 0)


@contextlib.contextmanager
def _timed(seconds: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    seconds[name] = time.perf_counter() - started


def _info(choice: ModelChoice) -> Any:
    info = choice.info()
    assert info is not None  # a choice with an encoder always describes it
    return info


def split_articles(articles: list[Article], encoder: Encoder | None, options: BuildOptions) -> Passages:
    """Each paragraph a passage, long ones cut to the model's window (in its tokens, else estimated from
    words); without ``options.split``, each article one passage."""
    if encoder is not None and encoder.max_tokens is not None:
        count, max_tokens, counter = encoder.count_tokens, encoder.max_tokens, "model tokenizer"
    else:
        count, max_tokens, counter = estimate_tokens, DEFAULT_MAX_TOKENS, "word estimate"
    by_id = {article.id: article for article in articles}
    passages: list[Passage] = []
    for article in steps(articles, "split", options.progress):
        if options.split:
            prefix = article.title + "\n" if article.title else ""
            passages.extend(split_passages(article, count, max_tokens, prefix))
        else:
            passages.append(Passage(article.id, 1, 0, len(article.text), article.text))
    documents = [passage_document(by_id[p.article_id], p) for p in passages]
    return Passages(passages, documents, ChunkingInfo(max_tokens, counter, title_prefix=True, split=options.split))


def build_lexical(articles: list[Article], split: Passages, index_dir: Path, options: BuildOptions) -> LexicalIndex:
    """BM25 over the passages (the title repeated as ``options.lexical`` says), built in a scratch folder."""
    settings = options.lexical
    by_id = {article.id: article for article in articles}
    passages = split.passages
    documents = (
        split.documents
        if settings.title_repeats == 1
        else [passage_document(by_id[p.article_id], p, settings.title_repeats) for p in passages]
    )
    titles = [by_id[p.article_id].title for p in passages]
    return LexicalIndex.build(
        documents,
        [p.text for p in passages],
        settings,
        titles,
        scratch_dir=scratch_folder(index_dir, "lexical"),
        progress=options.progress,
    )


def group_copies(articles: list[Article], split: Passages, options: BuildOptions) -> CopyGroups:
    """Wire copies: near-identical passages of different articles, grouped (qa.index.duplicates)."""
    assert options.duplicates is not None
    with stage("copies", 1, options.progress) as bar:
        copies = find_copies(articles, split.passages, options.duplicates)
        bar.update(1)
    return copies


def build_dense(encoder: Encoder, embedded: Embedded, passages: list[Passage], options: BuildOptions) -> DenseIndex:
    """The vector index: exact, or approximate above ``options.dense.approximate_above`` passages (its recall
    checked on question stand-ins from the corpus)."""
    with stage("dense", 1, options.progress) as bar:
        probes = None
        if len(passages) > options.dense.approximate_above:
            probes = encoder.encode_queries(probe_questions(passages))
        dense = DenseIndex.build(embedded.vectors, options.dense, probes)
        bar.update(1)
    return dense


def describe(
    articles: list[Article],
    split: Passages,
    choice: ModelChoice,
    embedded: Embedded | None,
    dense: DenseIndex | None,
    copies: CopyGroups | None,
    options: BuildOptions,
    corpus: CorpusInfo | None,
) -> Manifest:
    """The manifest of the index being built (its file checksums are added as it is written)."""
    info = choice.info()
    counts = copies.describe() if copies is not None else {}
    passages = len(split.passages)
    reused = embedded.reused if embedded is not None else 0
    return Manifest(
        qa_version=__version__,
        mode="hybrid" if dense is not None else "lexical",
        articles=len(articles),
        passages=passages,
        lexical=options.lexical,
        chunking=split.chunking,
        corpus=corpus or CorpusInfo(),
        model=info,
        semantic_off_reason=choice.off_reason,
        dense=dense.describe() if dense is not None else None,
        fusion=_fusion(choice) if dense is not None else None,
        vectors=VectorsInfo(model_key(info), passages - reused, reused) if info is not None else None,
        versions=library_versions(),
        duplicates=(
            CopiesInfo(
                **options.duplicates.to_dict(), groups=counts["groups"], grouped_passages=counts["grouped_passages"]
            )
            if options.duplicates is not None and copies is not None
            else None
        ),
    )


@dataclass
class Built:
    """What the stages made, to be written into the index folder."""

    passages: list[Passage]
    lexical: LexicalIndex
    dense: DenseIndex | None
    embedded: Embedded | None
    copies: CopyGroups | None
    choice: ModelChoice


def write_index(
    index_dir: Path, manifest: Manifest, articles: list[Article], built: Built, options: BuildOptions
) -> None:
    """Write every file into a staging folder, checksum them into the manifest (written last), and swap the
    folder in for ``index_dir`` in one rename."""
    with staged_index(index_dir) as staging, stage("write", 4, options.progress) as bar:
        write_catalog(staging, articles, built.passages)
        if built.copies is not None:
            built.copies.save(staging)
        bar.update(1)
        built.lexical.save(staging)
        bar.update(1)
        if built.dense is not None and built.embedded is not None:
            built.dense.save(staging)
            save_keys(staging, built.embedded.keys)
            if built.choice.folder is not None:
                shutil.copytree(built.choice.folder, staging / MODEL_DIR)
        bar.update(1)
        for path in sorted(p for p in staging.rglob("*") if p.is_file() and p.name != OWNER_FILE):  # checksums
            manifest.files[path.relative_to(staging).as_posix()] = file_record(path)
        manifest.write(staging)
        bar.update(1)


def _fusion(choice: ModelChoice) -> FusionSettings:
    """How hybrid search fuses the two rankings for this model (tuned per model; RRF for one never tuned)."""
    if choice.trained is not None:
        return SELF_FUSION
    return MODEL_FUSION.get(choice.encoder.name, RRF_FUSION) if choice.encoder is not None else RRF_FUSION


def _check_unique_ids(articles: list[Article]) -> None:
    """Never two articles under one id: a citation would show another article's title, path and span."""
    seen: set[str] = set()
    for article in articles:
        if article.id in seen:
            raise CorpusError(
                f"Two articles have the id {article.id!r} (one from {article.path}); give each article its own id."
            )
        seen.add(article.id)


__all__ = [
    "ARTICLES_FILE",
    "DENSE_FILE",
    "LEXICAL_DIR",
    "PASSAGES_FILE",
    "SELF_MIN_WORDS",
    "SELF_MODEL",
    "BuildOptions",
    "BuildReport",
    "DenseSettings",
    "build_index",
    "index_articles",
    "passage_document",
    "probe_questions",
]
