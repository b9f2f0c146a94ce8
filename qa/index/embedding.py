"""The semantic stages of a build: which model encodes the passages, and their vectors.

The model is the one named, none, or one trained on the corpus — when asked for (``self``), or
when the named one cannot be loaded and the corpus is large enough for a trained one to help.
Vectors of passages whose indexed text did not change are taken from the index being replaced;
the others come from an :class:`Embedder`, which is where build engines differ: this process
(:class:`LocalEmbedder`) or a Ray cluster (``qa.index.raybuild``). Vectors go to disk a chunk at
a time: no stage holds them all.
"""

from __future__ import annotations

import contextlib
import errno
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.errors import ModelUnavailableError, Remedy
from qa.index.arrays import NpyReader, NpyWriter
from qa.index.catalog import Catalog
from qa.index.dense import VECTORS_FILE
from qa.index.document import MODEL_DIR
from qa.index.manifest import ModelInfo
from qa.index.options import BuildOptions
from qa.index.store import remove_own_folder, scratch_folder, write_error
from qa.index.vectorcache import KEY_BYTES, KEYS_FILE, VectorCache, content_keys
from qa.index.writer import CHUNK_PASSAGES
from qa.ingest.sentences import split_sentences
from qa.models.encoder import ENABLE_HINT, Encoder, load_encoder
from qa.models.selftrain import SELF_MIN_WORDS, TrainReport, TrainSettings, train_static_model
from qa.progress import stage
from qa.records import Passage

NO_MODEL = ("none", "")
SELF_MODEL = "self"  # `--model self`: train a model on the corpus being indexed
NEW_VECTORS_FILE = "new-vectors.npy"  # scratch: the embedded vectors, in document order
CHECK_QUESTIONS = 100
log = logging.getLogger("qa")


@dataclass
class ModelChoice:
    """The model a build encodes passages with (None: keywords only, for ``off_reason``)."""

    encoder: Encoder | None
    off_reason: str | None = None
    trained: TrainReport | None = None  # how it was trained, when it was trained on the corpus ...
    folder: Path | None = None  # ... and where its files are, to be copied into the index
    tried_training: bool = False  # whether a model was trained on the corpus (or the attempt failed)

    def info(self) -> ModelInfo | None:
        if self.encoder is None:
            return None
        return replace(ModelInfo.from_dict(self.encoder.describe()), self_trained=self.trained)


@dataclass
class Embedded:
    """What the embed stage wrote (``vectors.npy`` and ``vector_keys.npy``): how many vectors were embedded,
    and how many reused from the index being replaced."""

    embedded: int
    reused: int


class Embedder(Protocol):
    """Vectors for passage documents, returned in the order the documents come (in blocks of any size)."""

    def embed(self, chunks: Iterable[list[str]]) -> Iterator[np.ndarray]: ...


@dataclass
class LocalEmbedder:
    """Embeds in this process with a loaded encoder, a chunk at a time."""

    encoder: Encoder
    batch_size: int = 32

    def embed(self, chunks: Iterable[list[str]]) -> Iterator[np.ndarray]:
        for texts in chunks:
            yield self.encoder.encode_passages(texts, batch_size=self.batch_size)


def turned_off(model: str | Encoder | None) -> bool:
    return model is None or (isinstance(model, str) and model.strip().lower() in NO_MODEL)


def wants_self(model: str | Encoder | None) -> bool:
    return isinstance(model, str) and model.strip().lower() == SELF_MODEL


def load_model(options: BuildOptions) -> ModelChoice:
    """The model ``options`` name, loaded; a corpus model is trained later, once the passages are known."""
    model = options.model
    if isinstance(model, Encoder):
        return ModelChoice(model)
    if wants_self(model):
        return ModelChoice(None)
    if model is None or turned_off(model):
        if options.require_dense:
            raise ModelUnavailableError(
                "Semantic search was required, but the model is none.", option="model", remedy=Remedy.NAME_MODEL
            )
        return ModelChoice(None, 'semantic search was turned off (model "none")')
    with stage("model", 1, options.progress) as bar:
        try:
            choice = ModelChoice(load_encoder(model))
        except ModelUnavailableError as error:
            if options.require_dense:
                raise
            choice = ModelChoice(None, str(error))  # said once the build knows whether a corpus model replaces it
        bar.update(1)
    return choice


def train_if_needed(
    choice: ModelChoice,
    catalog: Catalog,
    words: int,
    index_dir: Path,
    options: BuildOptions,
    cleanup: contextlib.ExitStack,
) -> ModelChoice:
    """``choice``, or a model trained on the passages of ``catalog`` (``words`` words in all) when asked for
    or when it stands in for one that failed to load; ``cleanup`` removes its scratch folder when the build
    ends."""
    model = options.model
    if choice.encoder is not None or not (wants_self(model) or (options.auto_self and not turned_off(model))):
        return _said(choice, model)
    if not wants_self(model) and words < SELF_MIN_WORDS:
        if choice.off_reason:
            choice.off_reason += (
                f" (a model trained on the corpus itself helps from about {SELF_MIN_WORDS:,} words; "
                f"this corpus has {words:,})"
            )
        return _said(choice, model)
    if words < SELF_MIN_WORDS:
        log.warning(
            "The corpus has %s words; below about %s a model trained on it rarely beats keywords.",
            f"{words:,}",
            f"{SELF_MIN_WORDS:,}",
        )
    elif not wants_self(model):
        log.warning(
            "The model %s cannot be loaded (%s), so a semantic model is trained on this corpus instead (%s words).",
            model,
            choice.off_reason,
            f"{words:,}",
        )
    scratch = scratch_folder(index_dir, "model")
    cleanup.callback(remove_own_folder, scratch)
    folder = scratch / MODEL_DIR
    try:
        encoder, trained = _train_corpus_model(TrainingTexts(catalog), folder, options.training, options.progress)
        return ModelChoice(encoder, None, trained, folder, tried_training=True)
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM):
            raise write_error(index_dir, error) from None
        return _said(ModelChoice(None, _training_failed(error, options.require_dense), tried_training=True), model)
    except (ModelUnavailableError, RuntimeError, ValueError, MemoryError) as error:
        return _said(ModelChoice(None, _training_failed(error, options.require_dense), tried_training=True), model)


def _said(choice: ModelChoice, model: str | Encoder | None) -> ModelChoice:
    """``choice``, after warning that semantic search is off (once, after every fallback was tried)."""
    if choice.encoder is None and choice.off_reason and not turned_off(model):
        log.warning("semantic search is off: %s %s", choice.off_reason, ENABLE_HINT)
    return choice


def _training_failed(error: Exception, require_dense: bool) -> str:
    """The reason semantic search is off after training failed (or the error, with --require-dense)."""
    if isinstance(error, ModelUnavailableError):
        reason = str(error)
    else:
        reason = f"training a model on the corpus failed ({type(error).__name__}: {error})"
    if require_dense:
        raise ModelUnavailableError(reason) from None
    return reason


class TrainingTexts(Sequence[list[str]]):
    """Each passage of a catalog as its article's title, then its sentences; made when read, so training
    (which samples at most ``TrainSettings.max_passages``) never holds the corpus."""

    def __init__(self, catalog: Catalog) -> None:
        self._passages = catalog.passages
        self._owner = catalog.passage_article
        self._titles = [article.title for article, _ in catalog.scan()]  # one sequential pass

    def __len__(self) -> int:
        return len(self._passages)

    def __getitem__(self, row: int) -> list[str]:  # type: ignore[override]
        passage = self._passages[row]
        title = self._titles[int(self._owner[row])]
        sentences = split_sentences(passage.text) or [passage.text]
        return [title, *sentences] if title else sentences


def _train_corpus_model(
    texts: Sequence[list[str]], folder: Path, training: TrainSettings, progress: bool
) -> tuple[Encoder, TrainReport]:
    """Train a model on ``texts`` (per passage: its article's title, then its sentences) into ``folder`` and
    load it."""
    if sum(1 for sentences in texts if len(sentences) >= 2) < 2:
        raise ModelUnavailableError(
            "the corpus is too small to train a model on (it needs at least two passages of two sentences)"
        )
    report = train_static_model(texts, folder, training, progress=progress)
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


def embed(
    staging: Path,
    scratch_dir: Path,
    documents: Iterable[list[str]],
    key_of_model: str,
    dimension: int,
    cache: VectorCache | None,
    embedder: Embedder,
    count: int,
    progress: bool = False,
    files: tuple[str, str] = (VECTORS_FILE, KEYS_FILE),
    label: str = "embed",
) -> Embedded:
    """``vectors.npy`` and ``vector_keys.npy`` (or the ``files`` named: vectors, keys) in ``staging`` for the
    ``count`` documents (chunks, in row order: passages, or sentences): vectors ``cache`` (the index being
    replaced) holds for the same text and model are copied, the others come from ``embedder``, through a
    scratch file in ``scratch_dir``; ``label`` names the progress bar's stage."""
    vectors_file, keys_file = files
    found_parts: list[np.ndarray] = []
    total = 0

    def missing() -> Iterator[list[str]]:  # keys are written as the embedder asks for documents
        nonlocal total
        with NpyWriter(staging / keys_file, np.uint8, (KEY_BYTES,)) as keys_out:
            for chunk in documents:
                keys = content_keys(key_of_model, chunk)
                keys_out.add(keys)
                found = cache.lookup(keys) if cache is not None else np.full(len(chunk), -1, dtype=np.int64)
                found_parts.append(found)
                total += len(chunk)
                wanted = [chunk[row] for row in np.flatnonzero(found < 0).tolist()]
                if wanted:
                    yield wanted

    embedded = 0
    with (
        NpyWriter(scratch_dir / NEW_VECTORS_FILE, np.float32, (dimension,)) as new_vectors,
        stage(label, count, progress) as bar,
    ):
        for block in embedder.embed(missing()):
            new_vectors.add(np.asarray(block, dtype=np.float32))
            embedded += len(block)
            bar.update(len(block))
        bar.update(total - embedded)  # the vectors found in the previous index
    found = np.concatenate(found_parts) if found_parts else np.zeros(0, dtype=np.int64)
    if embedded != int((found < 0).sum()):
        raise RuntimeError(f"the embedder returned {embedded} vectors for {int((found < 0).sum())} documents")
    _assemble(staging / vectors_file, found, cache, NpyReader(scratch_dir / NEW_VECTORS_FILE), dimension)
    (scratch_dir / NEW_VECTORS_FILE).unlink()
    return Embedded(embedded, total - embedded)


def _assemble(path: Path, found: np.ndarray, cache: VectorCache | None, new: NpyReader, dimension: int) -> None:
    """Every row's vector in row order: from the cache where ``found`` names a cached row, else the next new one."""
    next_new = 0
    with NpyWriter(path, np.float32, (dimension,)) as out:
        for start in range(0, len(found), CHUNK_PASSAGES):
            rows = found[start : start + CHUNK_PASSAGES]
            block = np.empty((len(rows), dimension), dtype=np.float32)
            hit = rows >= 0
            if hit.any():
                assert cache is not None
                block[hit] = cache.vectors(rows[hit])
            fresh = int((~hit).sum())
            if fresh:
                block[~hit] = new[next_new : next_new + fresh]
                next_new += fresh
            out.add(block)


def probe_questions(passages: Sequence[Passage], count: int = CHECK_QUESTIONS) -> list[str]:
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
