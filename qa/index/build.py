"""`qa build`: corpus folder → articles → passages → lexical and dense indexes → index folder.

:func:`index_articles` runs the stages in order, each taking the one :class:`BuildOptions`, all of
them inside the staging folder that is swapped in atomically at the end:

    model (qa.index.embedding: load) → split, catalog and BM25 (qa.index.writer: one pass over the
        articles, a chunk at a time) → model (train on the corpus, if needed) → embed (from the
        catalog, a chunk at a time) → wire copies → dense index (from vectors.npy) → manifest

Memory stays bounded whatever the corpus size: no stage holds every passage or every vector.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sized
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import CorpusError, IndexWriteError, Remedy
from qa.index.arrays import NpyReader
from qa.index.catalog import ARTICLES_FILE, PASSAGES_FILE, Catalog
from qa.index.dense import DENSE_FILE, VECTORS_FILE, DenseIndex, DenseSettings
from qa.index.document import MODEL_DIR, passage_document
from qa.index.duplicates import CopyGroups, group_duplicates
from qa.index.embedding import (
    SELF_MODEL,
    Embedded,
    Embedder,
    LocalEmbedder,
    ModelChoice,
    embed,
    load_model,
    probe_questions,
    train_if_needed,
)
from qa.index.integrity import file_record
from qa.index.lexical import LEXICAL_DIR, LexicalWriter
from qa.index.manifest import (
    ChunkingInfo,
    CopiesInfo,
    CorpusInfo,
    Manifest,
    QdrantInfo,
    SentencesInfo,
    VectorsInfo,
    library_versions,
)
from qa.index.options import BuildOptions
from qa.index.qdrant import (
    QdrantSettings,
    check_alias_free,
    delete_collection,
    point_alias,
    write_collection,
    write_terms,
)
from qa.index.sentences import (
    SENTENCE_KEYS_FILE,
    SENTENCE_VECTORS_FILE,
    save_offsets,
    sentence_documents,
    sentence_offsets,
)
from qa.index.store import (
    OWNER_FILE,
    build_lock,
    check_replaceable,
    corpus_folder_check,
    index_target,
    remove_own_folder,
    scratch_folder,
    staged_index,
)
from qa.index.vectorcache import KEYS_FILE, VectorCache, model_key
from qa.index.writer import PassageSummary, passage_documents, write_passages
from qa.ingest.chunking import DEFAULT_MAX_TOKENS, estimate_tokens, split_passages
from qa.ingest.corpus import load_corpus
from qa.models.encoder import Encoder
from qa.models.selftrain import SELF_MIN_WORDS
from qa.progress import stage, steps
from qa.records import Article, Passage, Skip
from qa.settings import MODEL_FUSION, RRF_FUSION, SELF_FUSION, FusionSettings, __version__

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
        reading = replace(options.reading, progress=options.progress)
        skip_folder = corpus_folder_check(index_dir)
        if options.ray is not None:
            from qa.index.raybuild import load_corpus_on_ray

            load = load_corpus_on_ray(corpus_dir, options.strict, options.ray, reading, skip_folder)
        else:
            load = load_corpus(corpus_dir, strict=options.strict, options=reading, skip_folder=skip_folder)
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
    articles: Iterable[Article],
    index_dir: Path | str,
    options: BuildOptions | None = None,
    *,
    corpus: CorpusInfo | None = None,
    **changes: Any,
) -> BuildReport:
    """Index articles (what `qa build` and `qa eval` share); ``corpus`` describes where they came from.
    ``articles`` may be any iterable: it is read once, a chunk at a time. With ``split`` off each article is
    one passage as given (evaluation datasets come pre-cut)."""
    options = BuildOptions.of(options, **changes)
    index_dir = Path(index_dir)
    if options.qdrant is not None:
        check_alias_free(options.qdrant)  # before any work
    seconds: dict[str, float] = {}
    with _timed(seconds, "model"):
        choice = load_model(options)
    made: list[str] = []  # the Qdrant collection this build wrote, deleted again if the build fails
    try:
        with contextlib.ExitStack() as cleanup, staged_index(index_dir) as staging:
            manifest, embedded = _stages(articles, staging, index_dir, options, corpus, choice, seconds, cleanup, made)
    except BaseException:
        if options.qdrant is not None and made:
            delete_collection(options.qdrant, made[0])
        raise
    if options.qdrant is not None and made:
        point_alias(options.qdrant, made[0])  # the new index folder is in place: the alias follows it
    return BuildReport(index_dir, manifest, seconds, vectors_reused=embedded.reused if embedded else 0)


def _stages(
    articles: Iterable[Article],
    staging: Path,
    index_dir: Path,
    options: BuildOptions,
    corpus: CorpusInfo | None,
    choice: ModelChoice,
    seconds: dict[str, float],
    cleanup: contextlib.ExitStack,
    made: list[str],
) -> tuple[Manifest, Embedded | None]:
    """Every stage after loading the model, writing into ``staging``; the manifest is written last."""
    lexical_scratch = scratch_folder(index_dir, "lexical")
    cleanup.callback(remove_own_folder, lexical_scratch)
    lexical = LexicalWriter(lexical_scratch, options.lexical)
    cleanup.callback(lexical.close)
    total = len(articles) if isinstance(articles, Sized) else None
    summary = write_passages(
        steps(_unique_ids(articles), "split", options.progress, total),
        staging,
        passage_cutter(choice.encoder, options),
        passage_document,
        lexical,
        options.progress,
        keep_weights=options.qdrant is not None,
    )
    seconds.update(summary.seconds)
    catalog = Catalog.load(staging, summary.passages, summary.articles, mmap_arrays=False)
    started = time.perf_counter()
    choice = train_if_needed(choice, catalog, summary.words, index_dir, options, cleanup)
    if choice.tried_training:
        seconds["train"] = time.perf_counter() - started
    if choice.folder is not None:
        shutil.copytree(choice.folder, staging / MODEL_DIR)
    embedded = sentences = None
    if choice.encoder is not None:
        with _timed(seconds, "embed"):
            embedded = embed_passages(choice, catalog, staging, index_dir, options, cleanup)
        if options.sentences and _fusion(choice).sentence_weight > 0 and options.qdrant is None:  # not in Qdrant
            with _timed(seconds, "sentences"):
                sentences = embed_sentences(choice, catalog, staging, index_dir, options, cleanup)
    copies = None
    if options.duplicates is not None:
        with _timed(seconds, "duplicates"):
            copies = group_copies(catalog, staging, options)
    dense = None
    if options.qdrant is not None:
        with _timed(seconds, "qdrant"):
            made.append(upload_to_qdrant(options.qdrant, staging, catalog, lexical, choice, options.progress))
    elif choice.encoder is not None and embedded is not None:
        with _timed(seconds, "dense"):
            dense = build_dense(choice.encoder, staging, catalog, options)
    with _timed(seconds, "write"):
        manifest = describe(
            summary, choice, embedded, dense, copies, options, corpus, made[0] if made else None, sentences
        )
        del catalog, dense  # let go of the staged files' memory maps before they are swapped in
        write_manifest(staging, manifest, options)
    return manifest, embedded


@contextlib.contextmanager
def _timed(seconds: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    seconds[name] = time.perf_counter() - started


def _info(choice: ModelChoice) -> Any:
    info = choice.info()
    assert info is not None  # a choice with an encoder always describes it
    return info


def passage_cutter(encoder: Encoder | None, options: BuildOptions) -> Callable[[Article], list[Passage]]:
    """How an article becomes passages: each paragraph a passage, long ones cut to the model's window (in its
    tokens, else estimated from words); without ``options.split``, the article as one passage."""
    if encoder is not None and encoder.max_tokens is not None:
        count, max_tokens = encoder.count_tokens, encoder.max_tokens
    else:
        count, max_tokens = estimate_tokens, DEFAULT_MAX_TOKENS

    def cut(article: Article) -> list[Passage]:
        if not options.split:
            return [Passage(article.id, 1, 0, len(article.text), article.text)]
        return split_passages(article, count, max_tokens, article.title + "\n" if article.title else "")

    return cut


def chunking(encoder: Encoder | None, options: BuildOptions) -> ChunkingInfo:
    """How :func:`passage_cutter` cut the articles, for the manifest."""
    if encoder is not None and encoder.max_tokens is not None:
        return ChunkingInfo(encoder.max_tokens, "model tokenizer", title_prefix=True, split=options.split)
    return ChunkingInfo(DEFAULT_MAX_TOKENS, "word estimate", title_prefix=True, split=options.split)


def embed_passages(
    choice: ModelChoice,
    catalog: Catalog,
    staging: Path,
    index_dir: Path,
    options: BuildOptions,
    cleanup: contextlib.ExitStack,
) -> Embedded:
    """``vectors.npy`` and ``vector_keys.npy``: the passages' vectors, reused from the index being replaced
    where the text and model are the same, else embedded by the engine ``options`` name."""
    documents = passage_documents(catalog, passage_document)
    return _embed_documents(choice, documents, len(catalog.passages), staging, index_dir, options, cleanup)


def embed_sentences(
    choice: ModelChoice,
    catalog: Catalog,
    staging: Path,
    index_dir: Path,
    options: BuildOptions,
    cleanup: contextlib.ExitStack,
) -> SentencesInfo:
    """``sentence_vectors.npy``, ``sentence_keys.npy`` and ``sentence_offsets.npy`` (qa.index.sentences): every
    passage's sentences embedded with their article's title, reused from the index being replaced where the
    text and model are the same."""
    offsets = sentence_offsets(catalog)
    save_offsets(staging, offsets)
    files = (SENTENCE_VECTORS_FILE, SENTENCE_KEYS_FILE)
    done = _embed_documents(
        choice, sentence_documents(catalog), int(offsets[-1]), staging, index_dir, options, cleanup, files, "sentences"
    )
    return SentencesInfo(done.embedded + done.reused, done.embedded, done.reused)


def _embed_documents(
    choice: ModelChoice,
    documents: Iterable[list[str]],
    count: int,
    staging: Path,
    index_dir: Path,
    options: BuildOptions,
    cleanup: contextlib.ExitStack,
    files: tuple[str, str] = (VECTORS_FILE, KEYS_FILE),
    label: str = "embed",
) -> Embedded:
    """The ``count`` ``documents`` embedded into ``files`` (vectors, content keys) in ``staging``, through a
    scratch folder; progress shown as stage ``label``."""
    encoder = choice.encoder
    assert encoder is not None
    key = model_key(_info(choice))
    cache = VectorCache.open(index_dir, key, encoder.dimension, *files) if options.reuse_vectors else None
    scratch = scratch_folder(index_dir, Path(files[0]).stem)
    cleanup.callback(remove_own_folder, scratch)
    # Ray actors load the model themselves: from where it was loaded, or, trained on the corpus, from the index.
    location = str(staging / MODEL_DIR) if choice.folder is not None else encoder.name
    embedder = _embedder(encoder, location, options)
    return embed(
        staging, scratch, documents, key, encoder.dimension, cache, embedder, count, options.progress, files, label
    )


def _embedder(encoder: Encoder, location: str, options: BuildOptions) -> Embedder:
    if options.ray is not None:
        from qa.index.raybuild import RayEmbedder

        return RayEmbedder(location, options.ray, options.batch_size)
    return LocalEmbedder(encoder, options.batch_size)


def upload_to_qdrant(
    settings: QdrantSettings,
    staging: Path,
    catalog: Catalog,
    lexical: LexicalWriter,
    choice: ModelChoice,
    progress: bool,
) -> str:
    """The `qdrant` backend: every passage into a new collection (qa.index.qdrant). The folder keeps the
    catalog and the term statistics; the vectors and the BM25 files the collection now holds leave it."""
    dimension = choice.encoder.dimension if choice.encoder is not None else None
    with stage("qdrant", 1, progress) as bar:
        collection = write_collection(settings, staging, catalog, lexical, dimension)
        bar.update(1)
    write_terms(staging, lexical)
    shutil.rmtree(staging / LEXICAL_DIR)
    for name in (VECTORS_FILE, KEYS_FILE):
        (staging / name).unlink(missing_ok=True)
    return collection


def group_copies(catalog: Catalog, staging: Path, options: BuildOptions) -> CopyGroups:
    """Wire copies: near-identical passages of different articles, grouped (qa.index.duplicates); saved."""
    assert options.duplicates is not None
    with stage("copies", 1, options.progress) as bar:
        groups = group_duplicates(catalog.passage_texts(), np.asarray(catalog.passage_article), options.duplicates)
        copies = CopyGroups(groups)
        copies.save(staging)
        bar.update(1)
    return copies


def build_dense(encoder: Encoder, staging: Path, catalog: Catalog, options: BuildOptions) -> DenseIndex:
    """The vector index over ``vectors.npy`` (read a block at a time): exact, or approximate above
    ``options.dense.approximate_above`` passages (its recall checked on question stand-ins from the corpus)."""
    with stage("dense", 1, options.progress) as bar:
        probes = None
        if len(catalog.passages) > options.dense.approximate_above:
            probes = encoder.encode_queries(probe_questions(catalog.passages))
        dense = DenseIndex.build(NpyReader(staging / VECTORS_FILE), options.dense, probes)
        dense.save(staging)
        bar.update(1)
    return dense


def describe(
    summary: PassageSummary,
    choice: ModelChoice,
    embedded: Embedded | None,
    dense: DenseIndex | None,
    copies: CopyGroups | None,
    options: BuildOptions,
    corpus: CorpusInfo | None,
    collection: str | None = None,
    sentences: SentencesInfo | None = None,
) -> Manifest:
    """The manifest of the index being built (its file checksums are added as it is written); ``collection``
    is the Qdrant collection the passages were written into, for the `qdrant` backend."""
    info = choice.info()
    counts = copies.describe() if copies is not None else {}
    hybrid = dense is not None or (collection is not None and embedded is not None)
    return Manifest(
        qa_version=__version__,
        mode="hybrid" if hybrid else "lexical",
        backend="qdrant" if collection is not None else "local",
        articles=summary.articles,
        passages=summary.passages,
        lexical=options.lexical,
        chunking=chunking(choice.encoder, options),
        corpus=corpus or CorpusInfo(),
        model=info,
        semantic_off_reason=choice.off_reason,
        dense=dense.describe() if dense is not None else None,
        fusion=_fusion(choice, sentences is not None) if hybrid else None,  # on Qdrant too: the retriever fuses
        vectors=(
            VectorsInfo(model_key(info), embedded.embedded, embedded.reused)
            if info is not None and embedded is not None
            else None
        ),
        sentences=sentences,
        versions=library_versions(),
        duplicates=(
            CopiesInfo(
                **options.duplicates.to_dict(), groups=counts["groups"], grouped_passages=counts["grouped_passages"]
            )
            if options.duplicates is not None and copies is not None
            else None
        ),
        qdrant=(
            QdrantInfo(
                collection, options.qdrant.collection, options.qdrant.sparse, options.qdrant.url, options.qdrant.path
            )
            if options.qdrant is not None and collection is not None
            else None
        ),
    )


def write_manifest(staging: Path, manifest: Manifest, options: BuildOptions) -> None:
    """Checksum every file the stages wrote into ``staging`` and write the manifest, last."""
    with stage("write", 1, options.progress) as bar:
        for path in sorted(p for p in staging.rglob("*") if p.is_file() and p.name != OWNER_FILE):  # checksums
            manifest.files[path.relative_to(staging).as_posix()] = file_record(path)
        manifest.write(staging)
        bar.update(1)


def _fusion(choice: ModelChoice, sentences: bool = True) -> FusionSettings:
    """How hybrid search fuses the two rankings for this model (tuned per model; RRF for one never tuned);
    without ``sentences`` (no sentence vectors were built) no weight on the best sentence."""
    if choice.trained is not None:
        fusion = SELF_FUSION
    else:
        fusion = MODEL_FUSION.get(choice.encoder.name, RRF_FUSION) if choice.encoder is not None else RRF_FUSION
    return fusion if sentences else dataclasses.replace(fusion, sentence_weight=0.0)


def _unique_ids(articles: Iterable[Article]) -> Iterator[Article]:
    """``articles``, refusing a second article under one id: a citation would show another article's title,
    path and span."""
    seen: set[str] = set()
    for article in articles:
        if article.id in seen:
            raise CorpusError(
                f"Two articles have the id {article.id!r} (one from {article.path}); give each article its own id."
            )
        seen.add(article.id)
        yield article


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
