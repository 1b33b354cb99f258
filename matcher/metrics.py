"""Ranking metrics over graded judgments (3 perfect, 2 good, 1 partial)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


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
