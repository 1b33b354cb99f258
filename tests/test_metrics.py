from __future__ import annotations

import pytest

from matcher.metrics import dcg, ndcg_at_k, paired_difference, recall_at_k, reciprocal_rank

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


def test_paired_difference_of_identical_rankers_is_exactly_zero() -> None:
    scores = {"q1": 0.5, "q2": 0.8, "q3": 0.0}
    d = paired_difference(scores, dict(scores), ["q1", "q2", "q3"])
    assert (d.n, d.differing, d.mean, d.low, d.high) == (3, 0, 0.0, 0.0, 0.0)


def test_paired_difference_interval_covers_one_changed_case_but_not_a_consistent_gain() -> None:
    cases = [f"q{i}" for i in range(40)]
    base = {c: 0.5 for c in cases}
    one_worse = {**base, "q7": 0.38}  # one case lost 0.12: mean -0.003
    d = paired_difference(one_worse, base, cases)
    assert d.differing == 1 and round(d.mean, 4) == -0.003
    assert d.low < d.mean < d.high and d.high == 0.0  # cannot tell it from no difference
    better = {c: 0.5 + (0.1 if i % 2 else 0.05) for i, c in enumerate(cases)}
    g = paired_difference(better, base, cases)
    assert g.differing == 40 and 0.05 <= g.low < g.mean < g.high <= 0.1


def test_paired_difference_names_missing_cases() -> None:
    with pytest.raises(ValueError, match="q2"):
        paired_difference({"q1": 1.0}, {"q1": 1.0, "q2": 0.0}, ["q1", "q2"])
