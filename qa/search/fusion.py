"""Combining rankings from several retrievers into one. Pure functions over row ids and scores."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qa.settings import RRF_K


def reciprocal_rank_fusion(
    rankings: Sequence[np.ndarray], k: int = RRF_K, weights: Sequence[float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Fuse rankings (row ids, best first) by Σ weight / (k + rank), rank counted from 1.

    Returns (row ids, fused scores), best first; ties keep the order in which rows were first
    seen, which favours the first ranking.
    """
    weights = [1.0] * len(rankings) if weights is None else list(weights)
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, row in enumerate(np.asarray(ranking).tolist(), start=1):
            if row < 0:
                continue
            fused[row] = fused.get(row, 0.0) + weight / (k + rank)
    if not fused:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    rows = np.fromiter(fused.keys(), dtype=np.int64, count=len(fused))
    scores = np.fromiter(fused.values(), dtype=np.float64, count=len(fused))
    order = np.argsort(-scores, kind="stable")
    return rows[order], scores[order]


def _unit_range(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.zeros_like(values, dtype=np.float64)


def _standardised(values: np.ndarray) -> np.ndarray:
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 0 else np.zeros_like(values, dtype=np.float64)


NORMALISERS = {"minmax": _unit_range, "zscore": _standardised}


def interpolate_scores(
    rows: np.ndarray, first: np.ndarray, second: np.ndarray, first_weight: float, normalise: str = "minmax"
) -> tuple[np.ndarray, np.ndarray]:
    """Fuse two methods' scores of the same candidate ``rows``: each is normalised over the candidates
    (``minmax`` to [0, 1], or ``zscore`` to mean 0 and standard deviation 1), then
    ``first_weight·first + (1 − first_weight)·second``.

    Returns (row ids, fused scores), best first; ties keep the order of ``rows``. Unlike rank
    fusion, a weak method gets a small say in proportion to its weight.
    """
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) == 0:
        return rows, np.zeros(0, dtype=np.float64)
    scale = NORMALISERS[normalise]
    first_part = scale(np.asarray(first, dtype=np.float64))
    fused = first_weight * first_part + (1 - first_weight) * scale(np.asarray(second, dtype=np.float64))
    order = np.argsort(-fused, kind="stable")
    return rows[order], fused[order]


def gated_weight(weight: float, coverage: float, gate: float | None) -> float:
    """The lexical weight for one question: ``weight`` scaled by ``min(1, coverage / gate)``, so a question
    whose words even the best keyword matches barely contain (a paraphrase) leans on the vectors."""
    if not gate:
        return weight
    return weight * min(1.0, max(0.0, coverage) / gate)
