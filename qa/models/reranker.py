"""Cross-encoder reranking: a sentence-transformers ``CrossEncoder`` rescoring (question, passage) pairs.

A cross-encoder reads the question and the passage together, so it judges relevance far
better than either first-stage ranker, but it costs one model call per pair — hence it only
rescores the top candidates. The model is found like the embedding model (qa/models/encoder.py):
a local folder, then the Hugging Face cache, then — after a quick check that the hub answers —
a download; ``HF_HUB_OFFLINE=1`` is honoured.

:func:`locate_reranker` says whether the model can be found without loading any weights (what
a UI needs to decide whether to offer a rerank toggle); :func:`load_reranker` loads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import RerankerUnavailableError
from qa.models.encoder import _fingerprint, _hub_answers, _offline, _quiet_libraries

DEFAULT_RERANKER = "cross-encoder/ms-marco-MiniLM-L6-v2"
RERANK_DEPTH = 20
ENABLE_HINT = (
    "To turn reranking on, download the cross-encoder once on a machine with internet access "
    "(it is then read from the Hugging Face cache), or point the reranker at a local CrossEncoder folder."
)


@dataclass(frozen=True, slots=True)
class RerankerStatus:
    """Whether reranking can be offered: ``available`` with where the model comes from, or the reason it cannot."""

    available: bool
    model: str
    loaded: bool
    detail: str  # where the model comes from, or why it cannot be used

    def to_dict(self) -> dict[str, Any]:
        return {"available": self.available, "model": self.model, "loaded": self.loaded, "detail": self.detail}


@dataclass
class Reranker:
    """A loaded cross-encoder and how it was found."""

    model: Any
    name: str
    revision: str | None
    fingerprint: str | None

    def score(self, question: str, documents: list[str]) -> np.ndarray:
        """One relevance score per document for ``question``; higher is better."""
        return self.score_pairs([(question, document) for document in documents])

    def score_pairs(self, pairs: list[tuple[str, str]], batch_size: int = 32) -> np.ndarray:
        """One relevance score per (question, document) pair, in one batched call; higher is better."""
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        scores = self.model.predict(pairs, batch_size=batch_size, show_progress_bar=False, convert_to_numpy=True)
        return np.asarray(scores, dtype=np.float32).reshape(len(pairs))


def rerank_order(scores: np.ndarray) -> np.ndarray:
    """Positions sorted by score, best first; ties keep the first-stage order."""
    return np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")


def _is_local(name: str) -> bool:
    return name.startswith((".", "/", "~")) or Path(name).expanduser().is_dir() or name.count("/") > 1


def _cached_config(model_id: str) -> str | None:
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(model_id, "config.json")
    return found if isinstance(found, str) else None


def _revision(cached_path: str | None) -> str | None:
    if cached_path and "/snapshots/" in cached_path:
        return cached_path.split("/snapshots/")[1].split("/")[0]
    return None


def locate_reranker(name_or_path: str | Path) -> RerankerStatus:
    """Where the cross-encoder would be loaded from, without loading it (the hub is asked at most once, briefly)."""
    name = str(name_or_path)
    folder = Path(name).expanduser()
    if _is_local(name):
        if (folder / "config.json").is_file():
            return RerankerStatus(True, name, False, f"local folder {folder}")
        return RerankerStatus(False, name, False, f"no cross-encoder folder at {folder}")
    if _cached_config(name):
        return RerankerStatus(True, name, False, "Hugging Face cache")
    if _offline():
        return RerankerStatus(
            False, name, False, f"{name} is not in the Hugging Face cache and downloads are off (HF_HUB_OFFLINE)"
        )
    reachable, why = _hub_answers(name)
    if not reachable:
        return RerankerStatus(False, name, False, f"{name} is not in the Hugging Face cache and {why}")
    return RerankerStatus(True, name, False, "Hugging Face hub (downloaded on first use)")


def load_reranker(name_or_path: str | Path, allow_download: bool = True) -> Reranker:
    """Load a CrossEncoder from a local folder, the Hugging Face cache, or the hub.

    Raises RerankerUnavailableError with the reason when it cannot be loaded.
    """
    name = str(name_or_path)
    folder = Path(name).expanduser()
    _quiet_libraries()
    from sentence_transformers import CrossEncoder

    if _is_local(name):
        if not folder.is_dir():
            raise RerankerUnavailableError(f"No cross-encoder folder at {folder}. {ENABLE_HINT}")
        try:
            model = CrossEncoder(str(folder), local_files_only=True)
        except Exception as error:  # the library raises many types for a bad folder
            raise RerankerUnavailableError(
                f"{folder} is not a loadable CrossEncoder folder ({type(error).__name__}: {error})"
            ) from None
        return Reranker(model, str(folder.resolve()), None, _fingerprint(folder))
    cached = _cached_config(name)
    if cached:
        try:
            return Reranker(CrossEncoder(name, local_files_only=True), name, _revision(cached), None)
        except Exception:  # a broken cache entry: try the hub below
            pass
    if _offline() or not allow_download:
        raise RerankerUnavailableError(
            f"Cross-encoder {name} is not in the Hugging Face cache and downloads are off (HF_HUB_OFFLINE). "
            f"{ENABLE_HINT}"
        )
    reachable, why = _hub_answers(name)
    if not reachable:
        raise RerankerUnavailableError(
            f"Cross-encoder {name} is not in the Hugging Face cache and {why}. {ENABLE_HINT}"
        )
    try:
        model = CrossEncoder(name)
    except Exception as error:
        raise RerankerUnavailableError(
            f"Cross-encoder {name} could not be downloaded ({type(error).__name__}: {error})."
        ) from None
    return Reranker(model, name, _revision(_cached_config(name)), None)
