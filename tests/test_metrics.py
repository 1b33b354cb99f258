from __future__ import annotations

import pytest

from matcher.metrics import dcg, ndcg_at_k, recall_at_k, reciprocal_rank

J = {"a": 3, "b": 2, "c": 1}


def test_perfect_ranking_scores_one():
    assert ndcg_at_k(["a", "b", "c"], J) == pytest.approx(1.0)


def test_worse_order_scores_less_and_empty_scores_zero():
    assert ndcg_at_k(["c", "b", "a"], J) < ndcg_at_k(["a", "c", "b"], J) < 1.0
    assert ndcg_at_k(["x", "y"], J) == 0.0
    assert ndcg_at_k(["a"], {}) == 0.0


def test_ndcg_cut_off():
    assert ndcg_at_k(["x"] * 10 + ["a"], J, k=10) == 0.0


def test_dcg_value():
    assert dcg([3, 2]) == pytest.approx(7 + 3 / 1.5849625, rel=1e-6)


def test_reciprocal_rank_and_recall():
    assert reciprocal_rank(["x", "c", "a"], J) == pytest.approx(0.5)
    assert reciprocal_rank(["x", "c", "a"], J, min_grade=3) == pytest.approx(1 / 3)
    assert reciprocal_rank(["x"], J) == 0.0
    assert recall_at_k(["a", "x", "b"], J, k=2) == pytest.approx(1 / 3)
    assert recall_at_k(["a", "b", "c"], J) == pytest.approx(1.0)
