"""`qa build`: corpus folder → articles → passages → lexical and dense indexes → index folder."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from qa.errors import CorpusError, IndexWriteError, ModelUnavailableError
from qa.index.catalog import ARTICLES_FILE, PASSAGES_FILE, write_catalog
from qa.index.dense import DENSE_FILE, DenseIndex, DenseSettings
from qa.index.document import MODEL_DIR, passage_document
from qa.index.duplicates import DuplicateSettings, find_copies
from qa.index.integrity import file_record
from qa.index.lexical import LEXICAL_DIR, LexicalIndex, LexicalSettings
from qa.index.manifest import ChunkingInfo, CopiesInfo, CorpusInfo, Manifest, ModelInfo, VectorsInfo, library_versions
from qa.index.store import (
    OWNER_FILE,
    STAGING_MARK,
    build_lock,
    check_replaceable,
    corpus_folder_check,
    index_target,
    make_own_folder,
    remove_own_folder,
    staged_index,
    write_error,
)
from qa.index.vectorcache import VectorCache, content_keys, model_key, save_keys
from qa.ingest.chunking import DEFAULT_MAX_TOKENS, estimate_tokens, split_passages
from qa.ingest.corpus import load_corpus
from qa.ingest.sentences import split_sentences
from qa.ingest.sources import ReadOptions
from qa.models.encoder import DEFAULT_MODEL, ENABLE_HINT, Encoder, load_encoder
from qa.models.selftrain import SELF_MIN_WORDS, TrainReport, TrainSettings, train_static_model
from qa.progress import stage, steps
from qa.records import Article, Passage, Skip
from qa.settings import MODEL_FUSION, RRF_FUSION, FusionSettings, __version__

NO_MODEL = ("none", "")
SELF_MODEL = "self"  # `--model self`: train a model on the corpus being indexed
# The corpus-trained model is fused by min-max normalised score interpolation (weight tuned on
# SciFact train and SQuAD articles 1-24); rank fusion lost to BM25 alone with it.
SELF_FUSION = FusionSettings("interpolation", lexical_weight=0.65)
CHECK_QUESTIONS = 100
EMBED_CHUNK = 1024  # passages encoded per call (the progress bar's step; the encoder batches within it)
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


def _turned_off(model: str | Encoder | None) -> bool:
    return model is None or (isinstance(model, str) and model.strip().lower() in NO_MODEL)


def _wants_self(model: str | Encoder | None) -> bool:
    return isinstance(model, str) and model.strip().lower() == SELF_MODEL


def _resolve_encoder(model: str | Encoder | None, require_dense: bool) -> tuple[Encoder | None, str | None]:
    if isinstance(model, Encoder):
        return model, None
    if _wants_self(model):
        return None, None  # trained once the passages are known
    if _turned_off(model):
        if require_dense:
            raise ModelUnavailableError("--require-dense needs a model; --model none turns semantic search off.")
        return None, "semantic search was turned off (--model none)"
    try:
        return load_encoder(model), None
    except ModelUnavailableError as error:
        if require_dense:
            raise
        return None, str(error)  # said once the build knows whether a corpus model replaces it


def build_index(
    corpus_dir: Path | str,
    index_dir: Path | str,
    model: str | Encoder | None = DEFAULT_MODEL,
    require_dense: bool = False,
    strict: bool = False,
    lexical: LexicalSettings | None = None,
    progress: bool = False,
    dense: DenseSettings | None = None,
    reuse_vectors: bool = True,
    training: TrainSettings | None = None,
    auto_self: bool = True,
    reading: ReadOptions | None = None,
) -> BuildReport:
    """Build an index of the articles in ``corpus_dir`` into ``index_dir``.

    ``index_dir`` is replaced only when the build succeeds. Semantic search needs ``model``;
    when it cannot be loaded the build still produces a lexical index and says why in the
    manifest, unless ``require_dense`` makes that an error. With ``reuse_vectors`` the passage
    vectors of the index being replaced are reused for passages whose text did not change.
    ``model="self"`` trains a model on the corpus (``training`` sets its budget); with
    ``auto_self`` that also happens when ``model`` cannot be loaded and the corpus is large
    enough for it to help (:data:`SELF_MIN_WORDS`). ``reading`` sets how documents are read
    (OCR of scanned pages).
    """
    corpus_dir = Path(corpus_dir)
    index_dir = index_target(Path(index_dir))
    with build_lock(index_dir):  # one build of an index at a time; a second one fails here, at once
        check_replaceable(index_dir)  # before any work: a folder that is not a qa index is never touched
        _check_apart(corpus_dir, index_dir)
        started = time.perf_counter()
        load = load_corpus(
            corpus_dir,
            strict=strict,
            options=replace(reading or ReadOptions(), progress=progress),
            skip_folder=corpus_folder_check(index_dir),
        )
        loaded = time.perf_counter() - started
        report = index_articles(
            load.articles,
            index_dir,
            model=model,
            require_dense=require_dense,
            lexical=lexical,
            progress=progress,
            corpus=CorpusInfo(str(corpus_dir.resolve()), load.files, tuple(load.skipped)),
            dense=dense,
            reuse_vectors=reuse_vectors,
            training=training,
            auto_self=auto_self,
        )
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
            f"{index_dir}, which a build replaces. Choose another folder with --index."
        )


def index_articles(
    articles: list[Article],
    index_dir: Path | str,
    model: str | Encoder | None = DEFAULT_MODEL,
    require_dense: bool = False,
    lexical: LexicalSettings | None = None,
    progress: bool = False,
    split: bool = True,
    corpus: CorpusInfo | None = None,
    dense: DenseSettings | None = None,
    reuse_vectors: bool = True,
    training: TrainSettings | None = None,
    auto_self: bool = False,
    duplicates: DuplicateSettings | None = DuplicateSettings(),  # noqa: B008 (frozen, so safe to share)
) -> BuildReport:
    """Index already-loaded articles (what `qa build` and `qa eval` share).

    With ``split`` each paragraph becomes a passage (long ones cut to the model's window);
    without it each article is one passage as given (evaluation datasets come pre-cut).
    ``duplicates`` says how wire copies are grouped (None: not grouped).
    """
    index_dir = Path(index_dir)
    settings = lexical or LexicalSettings()
    seconds: dict[str, float] = {}
    _check_unique_ids(articles)

    started = time.perf_counter()
    with stage(
        "model", 1, progress and isinstance(model, str) and not _turned_off(model) and not _wants_self(model)
    ) as bar:
        encoder, off_reason = _resolve_encoder(model, require_dense)
        bar.update(1)
    seconds["model"] = time.perf_counter() - started

    started = time.perf_counter()
    if encoder is not None and encoder.max_tokens is not None:
        count, max_tokens, counter = encoder.count_tokens, encoder.max_tokens, "model tokenizer"
    else:
        count, max_tokens, counter = estimate_tokens, DEFAULT_MAX_TOKENS, "word estimate"
    by_id = {article.id: article for article in articles}
    passages: list[Passage] = []
    for article in steps(articles, "split", progress):
        if split:
            prefix = article.title + "\n" if article.title else ""
            passages.extend(split_passages(article, count, max_tokens, prefix))
        else:
            passages.append(Passage(article.id, 1, 0, len(article.text), article.text))
    documents = [passage_document(by_id[p.article_id], p) for p in passages]
    seconds["split"] = time.perf_counter() - started

    with contextlib.ExitStack() as cleanup:
        trained: TrainReport | None = None
        model_folder: Path | None = None
        if encoder is None and (_wants_self(model) or (auto_self and not _turned_off(model))):
            words = sum(len(p.text.split()) for p in passages)
            if _wants_self(model) or words >= SELF_MIN_WORDS:
                started = time.perf_counter()
                if words < SELF_MIN_WORDS:
                    log.warning(
                        "The corpus has %s words; below about %s a model trained on it rarely beats keywords.",
                        f"{words:,}",
                        f"{SELF_MIN_WORDS:,}",
                    )
                elif not _wants_self(model):
                    log.warning(
                        "The model %s cannot be loaded (%s), so a semantic model is trained on this corpus "
                        "instead (%s words).",
                        model,
                        off_reason,
                        f"{words:,}",
                    )
                scratch = _scratch(index_dir, "model")
                cleanup.callback(remove_own_folder, scratch)
                model_folder = scratch / MODEL_DIR
                try:
                    encoder, trained = _train_corpus_model(by_id, passages, model_folder, training, progress)
                    off_reason = None
                except OSError as error:
                    if error.errno in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM):
                        raise write_error(index_dir, error) from None
                    off_reason, model_folder = _training_failed(error, require_dense), None
                except (ModelUnavailableError, RuntimeError, ValueError, MemoryError) as error:
                    off_reason, model_folder = _training_failed(error, require_dense), None
                seconds["train"] = time.perf_counter() - started
            elif off_reason:
                off_reason += (
                    f" (a model trained on the corpus itself helps from about {SELF_MIN_WORDS:,} words; "
                    f"this corpus has {words:,})"
                )
        if encoder is None and off_reason and not _turned_off(model):  # said once, after every fallback was tried
            log.warning("semantic search is off: %s %s", off_reason, ENABLE_HINT)

        vectors = keys = None
        reused = 0
        model_info = _describe_model(encoder, trained)
        if encoder is not None and model_info is not None:
            started = time.perf_counter()
            keys = content_keys(model_key(model_info), documents)
            cache = VectorCache.open(index_dir, model_key(model_info), encoder.dimension) if reuse_vectors else None
            vectors, reused = _embed(encoder, documents, keys, cache, progress)
            seconds["embed"] = time.perf_counter() - started

        started = time.perf_counter()
        lexical_documents = (
            documents
            if settings.title_repeats == 1
            else [passage_document(by_id[p.article_id], p, settings.title_repeats) for p in passages]
        )
        titles = [by_id[p.article_id].title for p in passages]
        lexical_index = LexicalIndex.build(
            lexical_documents,
            [p.text for p in passages],
            settings,
            titles,
            scratch_dir=_scratch(index_dir, "lexical"),
            progress=progress,
        )
        del lexical_documents, documents
        seconds["lexical"] = time.perf_counter() - started
        copies = None
        if duplicates is not None:  # a stage of its own: wire copies grouped from the passage texts
            started = time.perf_counter()
            with stage("copies", 1, progress) as bar:
                copies = find_copies(articles, passages, duplicates)
                bar.update(1)
            seconds["duplicates"] = time.perf_counter() - started
        dense_index = None
        if encoder is not None and vectors is not None:
            started = time.perf_counter()
            dense_settings = dense or DenseSettings()
            with stage("dense", 1, progress) as bar:
                probes = None
                if len(passages) > dense_settings.approximate_above:
                    probes = encoder.encode_queries(probe_questions(passages))
                dense_index = DenseIndex.build(vectors, dense_settings, probes)
                bar.update(1)
            seconds["dense"] = time.perf_counter() - started

        started = time.perf_counter()
        manifest = Manifest(
            qa_version=__version__,
            mode="hybrid" if dense_index is not None else "lexical",
            articles=len(articles),
            passages=len(passages),
            lexical=settings,
            chunking=ChunkingInfo(max_tokens, counter, title_prefix=True, split=split),
            corpus=corpus or CorpusInfo(),
            model=model_info,
            semantic_off_reason=off_reason,
            dense=dense_index.describe() if dense_index is not None else None,
            fusion=_fusion(encoder, trained) if dense_index is not None else None,
            vectors=(
                VectorsInfo(model_key(model_info), len(passages) - reused, reused) if model_info is not None else None
            ),
            versions=library_versions(),
            duplicates=CopiesInfo(**duplicates.to_dict(), **copies.describe()) if duplicates and copies else None,
        )
        with staged_index(index_dir) as staging, stage("write", 4, progress) as bar:
            write_catalog(staging, articles, passages)
            if copies is not None:
                copies.save(staging)
            bar.update(1)
            lexical_index.save(staging)
            bar.update(1)
            if dense_index is not None and keys is not None:
                dense_index.save(staging)
                save_keys(staging, keys)
                if model_folder is not None:
                    shutil.copytree(model_folder, staging / MODEL_DIR)
            bar.update(1)
            for path in sorted(p for p in staging.rglob("*") if p.is_file() and p.name != OWNER_FILE):  # checksums
                manifest.files[path.relative_to(staging).as_posix()] = file_record(path)
            manifest.write(staging)
            bar.update(1)
        seconds["write"] = time.perf_counter() - started
        return BuildReport(index_dir, manifest, seconds, vectors_reused=reused)


def _fusion(encoder: Encoder | None, trained: TrainReport | None) -> FusionSettings:
    """How hybrid search fuses the two rankings for this model (tuned per model; RRF for one never tuned)."""
    if trained is not None:
        return SELF_FUSION
    return MODEL_FUSION.get(encoder.name, RRF_FUSION) if encoder is not None else RRF_FUSION


def _check_unique_ids(articles: list[Article]) -> None:
    """Never two articles under one id: a citation would show another article's title, path and span."""
    seen: set[str] = set()
    for article in articles:
        if article.id in seen:
            raise CorpusError(
                f"Two articles have the id {article.id!r} (one from {article.path}); give each article its own id."
            )
        seen.add(article.id)


def _scratch(index_dir: Path, purpose: str) -> Path:
    """An empty folder next to the index for temporary files (a model being trained, BM25 postings), named
    and marked like a staging folder so that one left by a killed build is swept away by the next
    (``remove_stale_staging``)."""
    index_dir = index_target(index_dir)
    folder = index_dir.resolve().parent / f"{index_dir.name}{STAGING_MARK}{purpose}-{os.getpid()}"
    try:
        return make_own_folder(folder)
    except OSError as error:
        raise write_error(index_dir, error) from None


def _training_failed(error: Exception, require_dense: bool) -> str:
    """The reason semantic search is off after training failed (or the error, with --require-dense)."""
    if isinstance(error, ModelUnavailableError):
        reason = str(error)
    else:
        reason = f"training a model on the corpus failed ({type(error).__name__}: {error})"
    if require_dense:
        raise ModelUnavailableError(reason) from None
    return reason


def _train_corpus_model(
    by_id: dict[str, Article],
    passages: list[Passage],
    folder: Path,
    training: TrainSettings | None,
    progress: bool,
) -> tuple[Encoder, TrainReport]:
    """Train a model on ``passages`` (each: its article's title, then its sentences) into ``folder`` and load it."""
    texts = []
    for passage in passages:
        title = by_id[passage.article_id].title
        sentences = split_sentences(passage.text) or [passage.text]
        texts.append([title, *sentences] if title else sentences)
    if sum(1 for sentences in texts if len(sentences) >= 2) < 2:
        raise ModelUnavailableError(
            "the corpus is too small to train a model on (it needs at least two passages of two sentences)"
        )
    report = train_static_model(texts, folder, training or TrainSettings(), progress=progress)
    log.info(
        "Trained a model on the corpus in %.0f s: %d steps over %d pairs, %d word pieces.",
        report.seconds,
        report.steps,
        report.pairs,
        report.vocab_size,
    )
    encoder = load_encoder(folder)
    encoder.name = MODEL_DIR  # saved inside the index; the retriever loads it from there
    return encoder, report


def _describe_model(encoder: Encoder | None, trained: TrainReport | None) -> ModelInfo | None:
    if encoder is None:
        return None
    return replace(ModelInfo.from_dict(encoder.describe()), self_trained=trained)


def _embed(
    encoder: Encoder, documents: list[str], keys: np.ndarray, cache: VectorCache | None, progress: bool
) -> tuple[np.ndarray, int]:
    """Vectors for ``documents``: cached ones copied, the rest embedded. Returns (vectors, how many reused)."""
    found = cache.lookup(keys) if cache is not None else np.full(len(documents), -1, dtype=np.int64)
    hit = found >= 0
    vectors = np.empty((len(documents), encoder.dimension), dtype=np.float32)
    if hit.any():
        assert cache is not None
        vectors[hit] = cache.vectors(found[hit])
    missing = np.flatnonzero(~hit)
    with stage("embed", len(missing), progress and len(missing) > 0) as bar:
        for start in range(0, len(missing), EMBED_CHUNK):
            rows = missing[start : start + EMBED_CHUNK]
            vectors[rows] = encoder.encode_passages([documents[row] for row in rows.tolist()])
            bar.update(len(rows))
    return vectors, int(hit.sum())


def probe_questions(passages: list[Passage], count: int = CHECK_QUESTIONS) -> list[str]:
    """Question stand-ins to check the approximate index with: a sentence from each of ``count`` random passages.

    A sentence is never identical to an indexed string, so its neighbours are not trivially
    found. Sentences quoted from the corpus are harder than real questions (a sentence that
    recurs in many passages has neighbours in many cells), so their recall is a lower bound.
    """
    rng = np.random.default_rng(0)
    chosen = rng.choice(len(passages), min(count, len(passages)), replace=False)
    questions = []
    for row in np.sort(chosen).tolist():
        sentences = split_sentences(passages[row].text) or [passages[row].text]
        questions.append(sentences[int(rng.integers(len(sentences)))])
    return questions


__all__ = [
    "ARTICLES_FILE",
    "DENSE_FILE",
    "LEXICAL_DIR",
    "PASSAGES_FILE",
    "SELF_MIN_WORDS",
    "SELF_MODEL",
    "BuildReport",
    "DenseSettings",
    "build_index",
    "index_articles",
    "passage_document",
    "probe_questions",
]
