"""Cross-encoder reranking: a sentence-transformers ``CrossEncoder`` rescoring (question, passage) pairs.

A cross-encoder reads the question and the passage together, so it judges relevance far
better than either first-stage ranker, but it costs one model call per pair — hence it only
rescores the top candidates. The model is found like the embedding model (qa/models/hub.py):
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
from qa.models.hub import Wording, find_model, load_model
from qa.settings import DEFAULT_RERANKER as DEFAULT_RERANKER  # re-exported: callers import it from here
from qa.settings import RERANK_DEPTH as RERANK_DEPTH

ENABLE_HINT = (
    "To turn reranking on, download the cross-encoder once on a machine with internet access "
    "(it is then read from the Hugging Face cache), or point the reranker at a local CrossEncoder folder."
)
RERANKER = Wording("Cross-encoder", "cross-encoder", "CrossEncoder folder", RerankerUnavailableError, ENABLE_HINT)


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


def locate_reranker(name_or_path: str | Path) -> RerankerStatus:
    """Where the cross-encoder would be loaded from, without loading it (the hub is asked at most once, briefly)."""
    name = str(name_or_path)
    try:
        source = find_model(name, RERANKER)
    except RerankerUnavailableError as error:
        reason = str(error).removesuffix(ENABLE_HINT).strip().rstrip(".")
        return RerankerStatus(False, name, False, reason[:1].lower() + reason[1:])
    return RerankerStatus(True, name, False, source.detail)


def load_reranker(name_or_path: str | Path, allow_download: bool = True) -> Reranker:
    """Load a CrossEncoder from a local folder, the Hugging Face cache, or the hub.

    Raises RerankerUnavailableError with the reason when it cannot be loaded.
    """
    source = find_model(name_or_path, RERANKER, allow_download=allow_download)
    from sentence_transformers import CrossEncoder

    model, source = load_model(source, RERANKER, CrossEncoder)
    return Reranker(model, source.name, source.revision, source.fingerprint)
