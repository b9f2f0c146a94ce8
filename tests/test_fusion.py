"""Reciprocal rank fusion as a pure function."""

from __future__ import annotations

import numpy as np
import pytest

from qa.search.fusion import reciprocal_rank_fusion


def test_rrf_scores_by_hand():
    rows, scores = reciprocal_rank_fusion([np.array([7, 3, 5]), np.array([3, 9])], k=60)
    assert rows.tolist() == [3, 7, 9, 5]
    assert scores.tolist() == pytest.approx([1 / 62 + 1 / 61, 1 / 61, 1 / 62, 1 / 63])


def test_rrf_ignores_padding_and_handles_empty_lists():
    rows, scores = reciprocal_rank_fusion([np.array([-1, -1]), np.array([], dtype=np.int64)])
    assert rows.tolist() == [] and scores.tolist() == []


def test_rrf_weights_tilt_the_vote():
    rows, _ = reciprocal_rank_fusion([np.array([1, 2]), np.array([2, 1])], weights=[1.0, 0.1])
    assert rows.tolist() == [1, 2]


def test_rrf_ties_keep_first_seen_order():
    rows, _ = reciprocal_rank_fusion([np.array([4]), np.array([8])])
    assert rows.tolist() == [4, 8]


def test_interpolation_by_hand():
    from qa.search.fusion import interpolate_scores

    rows, scores = interpolate_scores(np.array([4, 7, 9]), np.array([10.0, 5.0, 0.0]), np.array([0.2, 0.6, 0.4]), 0.7)
    # lexical → 1, 0.5, 0; dense → 0, 1, 0.5
    assert rows.tolist() == [4, 7, 9]
    assert scores.tolist() == pytest.approx([0.7, 0.35 + 0.3, 0.15])


def test_interpolation_with_a_constant_method_ranks_by_the_other():
    from qa.search.fusion import interpolate_scores

    rows, _ = interpolate_scores(np.array([1, 2, 3]), np.array([3.0, 3.0, 3.0]), np.array([0.1, 0.9, 0.5]), 0.7)
    assert rows.tolist() == [2, 3, 1]
    assert interpolate_scores(np.array([], dtype=np.int64), np.array([]), np.array([]), 0.5)[0].tolist() == []


def test_zscore_interpolation_standardises_each_method():
    from qa.search.fusion import interpolate_scores

    first, second = np.array([10.0, 0.0, 5.0]), np.array([0.1, 0.9, 0.5])  # both standardise to ±1.2247, 0
    rows, fused = interpolate_scores(np.array([7, 8, 9]), first, second, 0.75, "zscore")
    assert rows.tolist() == [7, 9, 8]
    assert fused.tolist() == pytest.approx([0.5 * 1.5**0.5, 0.0, -0.5 * 1.5**0.5])


@pytest.mark.parametrize(
    "coverage,gate,expected", [(0.9, 0.7, 0.6), (0.35, 0.7, 0.3), (0.0, 0.7, 0.0), (0.2, None, 0.6), (0.2, 0.0, 0.6)]
)
def test_gated_weight_shrinks_the_lexical_say_when_keywords_find_little(coverage, gate, expected):
    from qa.search.fusion import gated_weight

    assert gated_weight(0.6, coverage, gate) == pytest.approx(expected)
