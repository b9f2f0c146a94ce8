"""The rerank stage: a cross-encoder, found when an index opens and loaded on the first search that asks,
rescoring each question's first-stage candidates."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

import numpy as np

from qa.errors import RerankerUnavailableError
from qa.models.reranker import Reranker, RerankerStatus, load_reranker, locate_reranker, rerank_order

log = logging.getLogger("qa")


class LazyReranker:
    """A cross-encoder by name (id or folder), or an already loaded one; its weights load on first use."""

    def __init__(self, reranker: str | Reranker) -> None:
        self._loaded: Reranker | None = reranker if isinstance(reranker, Reranker) else None
        self.name = reranker.name if isinstance(reranker, Reranker) else str(reranker)
        self._status: RerankerStatus | None = None
        self._lock = threading.Lock()

    def status(self) -> RerankerStatus:
        """Whether reranking can work: loaded, can be found, or why not.

        Finding the model does not load its weights; the answer is remembered, and updated if
        loading later fails.
        """
        if self._loaded is not None:
            return RerankerStatus(True, self._loaded.name, True, "loaded")
        if self._status is None:
            self._status = locate_reranker(self.name)
        return self._status

    def load(self) -> Reranker:
        """The cross-encoder, loaded now if it was not; RerankerUnavailableError says why it cannot be."""
        with self._lock:
            if self._loaded is None:
                status = self.status()
                if not status.available:
                    raise RerankerUnavailableError(f"Reranking is off: {status.detail}.")
                try:
                    self._loaded = load_reranker(self.name)
                except RerankerUnavailableError as error:
                    self._status = RerankerStatus(False, self.name, False, str(error))
                    raise
                log.info("reranking with cross-encoder %s", self._loaded.name)
            return self._loaded


def rerank(
    reranker: Reranker, questions: Sequence[str], pools: Sequence[np.ndarray], document_of: Callable[[int], str]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per question, the order of its candidate rows by cross-encoder score and the sorted scores.

    The cross-encoder reads each row's ``document_of(row)`` (the passage as indexed); all pairs go
    in one batched call.
    """
    pairs = [(question, document_of(row)) for question, rows in zip(questions, pools) for row in rows.tolist()]
    scores = reranker.score_pairs(pairs).astype(np.float64)
    reordered, start = [], 0
    for rows in pools:
        mine = scores[start : start + len(rows)]
        start += len(rows)
        order = rerank_order(mine)
        reordered.append((order, mine[order]))
    return reordered
