from __future__ import annotations

import numpy as np

from matcher.feedback import Families, feedback_vector, mixed_query


def unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_feedback_moves_the_query_towards_the_best_results():
    q = unit(1, 0, 0)
    top = np.vstack([unit(0, 1, 0), unit(0, 1, 0.2)])
    moved = feedback_vector(q, top, 0.5)
    assert abs(float(np.linalg.norm(moved)) - 1) < 1e-5
    assert moved @ top[0] > q @ top[0] and moved @ q < 1
    assert np.array_equal(feedback_vector(q, top, 0.0), q)
    assert np.array_equal(feedback_vector(q, top[:0], 0.5), q)


def test_mixed_query_adds_weighted_vectors_and_renormalises_once():
    q, needs, terms = unit(1, 0), unit(0, 1), unit(0, -1)
    mixed = mixed_query(q, [(needs, 0.25)])
    assert abs(float(np.linalg.norm(mixed)) - 1) < 1e-5 and 0 < mixed[1] < mixed[0]
    assert np.array_equal(mixed_query(q, []), q)
    assert np.array_equal(mixed_query(q, [(needs, 0.0), (terms, -1.0)]), q)
    # one sum, one normalisation: opposite extras of equal weight cancel exactly
    assert np.allclose(mixed_query(q, [(needs, 0.5), (terms, 0.5)]), q)


def test_families_link_parents_and_children_only():
    fam = Families(["", "ch", "ch", None, "missing"], {"ch": 0})
    assert sorted(fam.relatives(0)) == [1, 2]
    assert fam.relatives(1) == [0]  # not the sibling
    assert fam.relatives(3) == [] and fam.relatives(4) == []
    assert fam.expand([1]) == [0, 2]  # a researcher brings in the chair and its colleagues
    assert fam.expand([0, 1, 2]) == [] and fam.expand([3]) == []


def test_lift_borrows_from_the_best_relative_but_never_lowers():
    fam = Families(["", "ch", "ch", None], {"ch": 0})
    lifted = fam.lift({0: 0.5, 1: 0.9, 2: 0.2, 3: 0.7}, 0.5)
    assert lifted[0] == 0.5 * 0.5 + 0.5 * 0.9  # the chair gains from its best researcher
    assert lifted[1] == 0.9  # a better researcher keeps its own score
    assert lifted[2] == 0.5 * 0.2 + 0.5 * 0.5  # and a weaker one inherits from the chair
    assert lifted[3] == 0.7
    assert fam.lift({0: 0.5, 1: 0.9}, 0.0) == {0: 0.5, 1: 0.9}
    assert fam.lift({0: 0.5}, 0.5) == {0: 0.5}  # relatives without a score do not count
