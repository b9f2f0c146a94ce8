"""The semantic stages of a build: which model encodes the passages, and their vectors.

The model is the one named, none, or one trained on the corpus — when asked for (``self``), or
when the named one cannot be loaded and the corpus is large enough for a trained one to help.
Vectors of passages whose indexed text did not change are taken from the index being replaced.
"""

from __future__ import annotations

import contextlib
import errno
import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from qa.errors import ModelUnavailableError, Remedy
from qa.index.document import MODEL_DIR
from qa.index.manifest import ModelInfo
from qa.index.options import BuildOptions
from qa.index.store import remove_own_folder, scratch_folder, write_error
from qa.index.vectorcache import VectorCache, content_keys, model_key
from qa.ingest.sentences import split_sentences
from qa.models.encoder import ENABLE_HINT, Encoder, load_encoder
from qa.models.selftrain import SELF_MIN_WORDS, TrainReport, TrainSettings, train_static_model
from qa.progress import stage
from qa.records import Article, Passage

NO_MODEL = ("none", "")
SELF_MODEL = "self"  # `--model self`: train a model on the corpus being indexed
EMBED_CHUNK = 1024  # passages encoded per call (the progress bar's step; the encoder batches within it)
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
    """The passage vectors of a build, their cache keys, and how many were reused rather than embedded."""

    vectors: np.ndarray
    keys: np.ndarray
    reused: int


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
    passages: list[Passage],
    by_id: dict[str, Article],
    index_dir: Path,
    options: BuildOptions,
    cleanup: contextlib.ExitStack,
) -> ModelChoice:
    """``choice``, or a model trained on ``passages`` when asked for or when it stands in for one that
    failed to load; ``cleanup`` removes its scratch folder when the build ends."""
    model = options.model
    if choice.encoder is not None or not (wants_self(model) or (options.auto_self and not turned_off(model))):
        return _said(choice, model)
    words = sum(len(p.text.split()) for p in passages)
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
        encoder, trained = _train_corpus_model(by_id, passages, folder, options.training, options.progress)
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


def _train_corpus_model(
    by_id: dict[str, Article],
    passages: list[Passage],
    folder: Path,
    training: TrainSettings,
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


def embed(encoder: Encoder, info: ModelInfo, documents: list[str], index_dir: Path, options: BuildOptions) -> Embedded:
    """Vectors for ``documents``: those the index being replaced holds for the same text and model are
    copied, the rest embedded."""
    keys = content_keys(model_key(info), documents)
    cache = VectorCache.open(index_dir, model_key(info), encoder.dimension) if options.reuse_vectors else None
    found = cache.lookup(keys) if cache is not None else np.full(len(documents), -1, dtype=np.int64)
    hit = found >= 0
    vectors = np.empty((len(documents), encoder.dimension), dtype=np.float32)
    if cache is not None and hit.any():
        vectors[hit] = cache.vectors(found[hit])
    missing = np.flatnonzero(~hit)
    with stage("embed", len(missing), options.progress and len(missing) > 0) as bar:
        for start in range(0, len(missing), EMBED_CHUNK):
            rows = missing[start : start + EMBED_CHUNK]
            vectors[rows] = encoder.encode_passages([documents[row] for row in rows.tolist()])
            bar.update(len(rows))
    return Embedded(vectors, keys, int(hit.sum()))


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
