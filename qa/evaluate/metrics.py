"""Ranking metrics as pure functions over arrays: nDCG@k, Recall@k, MRR@k.

A run is judged once into a *gains* matrix — row q, column r holds the relevance of the
passage query q got at rank r+1 (0 when unjudged or past the end of its ranking) — and every
metric is a vectorised function of it. Definitions follow trec_eval / pytrec_eval:

* nDCG@k = DCG@k / IDCG@k with DCG = Σ gain_r / log2(r + 1) over ranks r = 1..k (linear gain),
  IDCG the DCG of the judged passages sorted by relevance;
* Recall@k = relevant passages in the top k / all relevant passages of the query;
* MRR@k = 1 / rank of the first relevant passage in the top k (0 when there is none).

Queries are averaged with equal weight; a query without relevant passages is not evaluated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

METRICS = ("ndcg@10", "recall@1", "recall@5", "recall@10", "recall@100", "mrr@10")


def judge(ranked: Sequence[Sequence[str]], qrels: Sequence[Mapping[str, int]], depth: int) -> np.ndarray:
    """The gains matrix (queries × depth) of ranked passage ids against each query's judgements."""
    gains = np.zeros((len(ranked), depth), dtype=np.float64)
    for row, (ids, judged) in enumerate(zip(ranked, qrels, strict=True)):
        for rank, passage_id in enumerate(list(ids)[:depth]):
            gains[row, rank] = max(judged.get(passage_id, 0), 0)
    return gains


def ideal_gains(qrels: Sequence[Mapping[str, int]], depth: int) -> np.ndarray:
    """Each query's judged relevances sorted best first, as a (queries × depth) matrix."""
    ideal = np.zeros((len(qrels), depth), dtype=np.float64)
    for row, judged in enumerate(qrels):
        best = sorted((value for value in judged.values() if value > 0), reverse=True)[:depth]
        ideal[row, : len(best)] = best
    return ideal


def _discounts(k: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))


def ndcg_at(gains: np.ndarray, ideal: np.ndarray, k: int) -> np.ndarray:
    """Per-query nDCG@k (0 where the query has no relevant passage)."""
    dcg = gains[:, :k] @ _discounts(min(k, gains.shape[1]))
    idcg = ideal[:, :k] @ _discounts(min(k, ideal.shape[1]))
    return np.divide(dcg, idcg, out=np.zeros_like(dcg), where=idcg > 0)


def recall_at(gains: np.ndarray, relevant: np.ndarray, k: int) -> np.ndarray:
    """Per-query Recall@k; ``relevant`` is each query's number of relevant passages."""
    found = (gains[:, :k] > 0).sum(axis=1).astype(np.float64)
    relevant = np.asarray(relevant, dtype=np.float64)
    return np.divide(found, relevant, out=np.zeros_like(found), where=relevant > 0)


def reciprocal_rank_at(gains: np.ndarray, k: int) -> np.ndarray:
    """Per-query 1 / rank of the first relevant passage within the top k, else 0."""
    hits = gains[:, :k] > 0
    first = hits.argmax(axis=1)
    return np.where(hits.any(axis=1), 1.0 / (first + 1), 0.0)


def per_query(ranked: Sequence[Sequence[str]], qrels: Sequence[Mapping[str, int]]) -> dict[str, np.ndarray]:
    """Every metric of :data:`METRICS`, one value per query."""
    depth = 100
    gains = judge(ranked, qrels, depth)
    ideal = ideal_gains(qrels, depth)
    relevant = np.array([sum(1 for value in judged.values() if value > 0) for judged in qrels])
    return {
        "ndcg@10": ndcg_at(gains, ideal, 10),
        "recall@1": recall_at(gains, relevant, 1),
        "recall@5": recall_at(gains, relevant, 5),
        "recall@10": recall_at(gains, relevant, 10),
        "recall@100": recall_at(gains, relevant, 100),
        "mrr@10": reciprocal_rank_at(gains, 10),
    }


def mean_metrics(ranked: Sequence[Sequence[str]], qrels: Sequence[Mapping[str, int]]) -> dict[str, float]:
    """Every metric of :data:`METRICS`, averaged over the queries that have a relevant passage."""
    keep = [number for number, judged in enumerate(qrels) if any(value > 0 for value in judged.values())]
    values = per_query([ranked[n] for n in keep], [qrels[n] for n in keep])
    return {name: float(values[name].mean()) if keep else 0.0 for name in METRICS}
