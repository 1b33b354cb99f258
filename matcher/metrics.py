"""Ranking metrics over graded judgments (3 perfect, 2 good, 1 partial)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


def dcg(gains: Sequence[float]) -> float:
    """Discounted cumulative gain with exponential gain 2^rel - 1."""
    return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg_at_k(ranked: Sequence[str], judgments: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k in [0, 1]; 0 when nothing is judged relevant."""
    ideal = dcg(sorted(judgments.values(), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([judgments.get(pid, 0) for pid in ranked[:k]]) / ideal


def reciprocal_rank(
    ranked: Sequence[str], judgments: Mapping[str, int], min_grade: int = 1
) -> float:
    """1 / rank of the first result graded at least ``min_grade``; 0 if none is retrieved."""
    for i, pid in enumerate(ranked, start=1):
        if judgments.get(pid, 0) >= min_grade:
            return 1.0 / i
    return 0.0


def recall_at_k(ranked: Sequence[str], judgments: Mapping[str, int], k: int = 20) -> float:
    """Share of judged-relevant profiles found in the top k."""
    relevant = {pid for pid, g in judgments.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


@dataclass(frozen=True)
class PairedDifference:
    """How two systems' per-case scores differ on the same cases (a minus b)."""

    n: int  # cases scored by both
    differing: int  # cases whose scores differ (by more than 1e-9)
    mean: float  # mean of a - b
    low: float  # 2.5th percentile of the bootstrapped mean difference
    high: float  # 97.5th percentile

    def as_dict(self) -> dict[str, Any]:
        return {"n": self.n, "differing": self.differing, "mean": round(self.mean, 4),
                "ci95": [round(self.low, 4), round(self.high, 4)]}


def paired_difference(a: Mapping[str, float], b: Mapping[str, float], cases: Sequence[str],
                      resamples: int = 10_000, seed: int = 0) -> PairedDifference:
    """The mean per-case difference a − b over ``cases`` with a 95 % paired bootstrap interval
    (cases drawn with replacement, ``resamples`` times, seeded): whether a difference between
    two rankers on a small judged set is larger than the set can resolve.

    Raises:
        ValueError: a case is missing from ``a`` or ``b``, or ``cases`` is empty.
    """
    missing = [c for c in cases if c not in a or c not in b]
    if missing or not cases:
        raise ValueError(f"no score for {missing[:5]}" if missing else "no cases")
    diff = np.array([a[c] - b[c] for c in cases], dtype=np.float64)
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(resamples, len(diff)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return PairedDifference(len(diff), int((np.abs(diff) > 1e-9).sum()), float(diff.mean()),
                            float(low), float(high))
