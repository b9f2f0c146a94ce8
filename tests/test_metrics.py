"""Ranking metrics: hand-computed cases, and agreement with ranx (a reference implementation from PyPI)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from qa.evaluate.metrics import (
    METRICS,
    ideal_gains,
    judge,
    mean_metrics,
    ndcg_at,
    per_query,
    recall_at,
    reciprocal_rank_at,
)

LOG3 = math.log2(3)


@pytest.mark.parametrize(
    "ranking,judged,expected",
    [
        # one relevant passage at rank 2: DCG = 1/log2(3), IDCG = 1
        (["b", "a", "c"], {"a": 1}, {"ndcg@10": 1 / LOG3, "recall@1": 0, "recall@5": 1, "mrr@10": 0.5}),
        # two relevant at ranks 1 and 3: DCG = 1 + 1/2, IDCG = 1 + 1/log2(3)
        (
            ["a", "x", "b"],
            {"a": 1, "b": 1},
            {"ndcg@10": 1.5 / (1 + 1 / LOG3), "recall@1": 0.5, "recall@5": 1, "mrr@10": 1},
        ),
        # graded: the less relevant first. DCG = 1 + 2/log2(3), IDCG = 2 + 1/log2(3)
        (["b", "a"], {"a": 2, "b": 1}, {"ndcg@10": (1 + 2 / LOG3) / (2 + 1 / LOG3), "recall@1": 0.5, "mrr@10": 1}),
        # nothing relevant retrieved
        (["x", "y"], {"a": 1}, {"ndcg@10": 0, "recall@1": 0, "recall@100": 0, "mrr@10": 0}),
        # an empty ranking
        ([], {"a": 1}, {"ndcg@10": 0, "recall@100": 0, "mrr@10": 0}),
        # relevant only at rank 11: outside every @10 metric, inside Recall@100
        ([f"x{i}" for i in range(10)] + ["a"], {"a": 1}, {"ndcg@10": 0, "mrr@10": 0, "recall@10": 0, "recall@100": 1}),
        # three relevant, two in the top 5 at ranks 4 and 5
        (
            ["x", "y", "z", "a", "b", "c"],
            {"a": 1, "b": 1, "c": 1},
            {"recall@5": 2 / 3, "recall@10": 1, "mrr@10": 0.25},
        ),
        # a passage ranked twice counts where it first appears only once in the ideal
        (["a"], {"a": 1, "b": 1}, {"ndcg@10": 1 / (1 + 1 / LOG3), "recall@1": 0.5}),
    ],
)
def test_metric_matches_hand_computed_value(ranking, judged, expected):
    values = mean_metrics([ranking], [judged])
    for name, value in expected.items():
        assert values[name] == pytest.approx(value, abs=1e-12), name


def test_queries_without_relevant_passages_are_not_averaged():
    values = mean_metrics([["a"], ["a"]], [{"a": 1}, {"a": 0}])
    assert values["ndcg@10"] == 1.0 and values["mrr@10"] == 1.0


def test_metrics_are_pure_functions_of_the_gains_matrix():
    gains = np.array([[0, 1, 0], [1, 0, 1], [0, 0, 0]], dtype=float)
    ideal = np.array([[1, 0, 0], [1, 1, 0], [1, 0, 0]], dtype=float)
    assert reciprocal_rank_at(gains, 10).tolist() == [0.5, 1.0, 0.0]
    assert recall_at(gains, np.array([1, 2, 1]), 2).tolist() == [1.0, 0.5, 0.0]
    assert ndcg_at(gains, ideal, 1).tolist() == [0.0, 1.0, 0.0]


def test_judge_and_ideal_shapes():
    gains = judge([["a", "b"], ["c"]], [{"b": 2}, {"c": 1, "d": 3}], depth=3)
    assert gains.tolist() == [[0, 2, 0], [1, 0, 0]]
    assert ideal_gains([{"b": 2}, {"c": 1, "d": 3}], depth=3).tolist() == [[2, 0, 0], [3, 1, 0]]


def _random_run(seed: int, queries: int = 60, passages: int = 300):
    rng = np.random.default_rng(seed)
    qrels, run = {}, {}
    for q in range(queries):
        relevant = rng.choice(passages, size=int(rng.integers(1, 6)), replace=False)
        qrels[f"q{q}"] = {f"p{p}": int(rng.integers(1, 4)) for p in relevant}
        depth = int(rng.integers(0, 150))
        candidates = rng.choice(passages, size=depth, replace=False)
        if depth and rng.random() < 0.5:  # make relevant passages likelier near the top
            candidates[: len(relevant)] = relevant[: min(len(relevant), depth)]
            candidates = np.array(list(dict.fromkeys(candidates.tolist())))
        scores = np.sort(rng.random(len(candidates)))[::-1] + np.arange(len(candidates))[::-1] * 1e-9
        run[f"q{q}"] = {f"p{p}": float(s) for p, s in zip(candidates.tolist(), scores.tolist())}
    return qrels, run


@pytest.mark.slow  # ranx compiles its metrics with numba on first use
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_agree_with_ranx(seed):
    ranx = pytest.importorskip("ranx")
    qrels, run = _random_run(seed)
    ranked = [sorted(run[q], key=run[q].get, reverse=True)[:100] for q in qrels]
    ours = mean_metrics(ranked, list(qrels.values()))
    # ranx needs at least one retrieved passage per query; give empty rankings a passage nobody judged
    ranx_run = {q: (docs or {"unjudged": 0.0}) for q, docs in run.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = ranx.evaluate(ranx.Qrels(qrels), ranx.Run(ranx_run), list(METRICS))
    for name in METRICS:
        assert ours[name] == pytest.approx(float(reference[name]), abs=1e-9), name


@pytest.mark.slow
def test_per_query_values_agree_with_ranx():
    ranx = pytest.importorskip("ranx")
    qrels, run = _random_run(7, queries=20)
    run = {q: (docs or {"unjudged": 0.0}) for q, docs in run.items()}
    ranked = [sorted(run[q], key=run[q].get, reverse=True)[:100] for q in qrels]
    ours = per_query(ranked, list(qrels.values()))
    ranx_run = ranx.Run(run)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ranx.evaluate(ranx.Qrels(qrels), ranx_run, ["ndcg@10", "mrr@10"], return_mean=False)
    assert np.allclose(ours["ndcg@10"], [ranx_run.scores["ndcg@10"][q] for q in qrels])
    assert np.allclose(ours["mrr@10"], [ranx_run.scores["mrr@10"][q] for q in qrels])
