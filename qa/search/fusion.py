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


def interpolate_scores(
    rows: np.ndarray, first: np.ndarray, second: np.ndarray, first_weight: float
) -> tuple[np.ndarray, np.ndarray]:
    """Fuse two methods' scores of the same candidate ``rows``: each is min-max normalised over the
    candidates, then ``first_weight·first + (1 − first_weight)·second``.

    Returns (row ids, fused scores), best first; ties keep the order of ``rows``. Unlike rank
    fusion, a weak method gets a small say in proportion to its weight.
    """
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) == 0:
        return rows, np.zeros(0, dtype=np.float64)
    fused = first_weight * _unit_range(np.asarray(first, dtype=np.float64)) + (1 - first_weight) * _unit_range(
        np.asarray(second, dtype=np.float64)
    )
    order = np.argsort(-fused, kind="stable")
    return rows[order], fused[order]
