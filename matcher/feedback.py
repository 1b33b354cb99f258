"""Re-ranking aids of the matcher: pseudo-relevance feedback on the query vector and relevance
shared within an organisation (a chair and its researchers).

Both were tuned on the even-numbered judged queries of ``corpora/eval`` and checked on the odd
ones (docs/EVALUATION.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np


def feedback_vector(query: np.ndarray, top_vectors: np.ndarray, weight: float) -> np.ndarray:
    """The query vector moved towards the mean of the best first-pass results (unit length).

    Problem descriptions ("die Kamera meckert über Fehler, die keine sind") share few words with
    the offers that answer them; the best few results carry the vocabulary of the field.
    ``weight`` 0 or no results returns ``query`` unchanged.
    """
    if weight <= 0 or not len(top_vectors):
        return query
    moved = query + weight * top_vectors.mean(axis=0)
    norm = float(np.linalg.norm(moved))
    return query if norm == 0 else (moved / norm).astype(query.dtype)


def mixed_query(vector: np.ndarray,
                extras: Sequence[tuple[np.ndarray, float]]) -> np.ndarray:
    """``vector`` plus each extra vector times its weight, renormalised (a client's needs or a
    field's terms added to a request); weights ≤ 0 are skipped."""
    used = [(extra, weight) for extra, weight in extras if weight > 0]
    if not used:
        return vector
    moved = vector + sum(weight * extra for extra, weight in used)
    norm = float(np.linalg.norm(moved))
    return vector if norm == 0 else (moved / norm).astype(vector.dtype)


class Families:
    """Parent ↔ child rows of the profile table (a chair and its researchers)."""

    def __init__(self, parents: Sequence[str | None], pos: Mapping[str, int]) -> None:
        self.parent: dict[int, int] = {}
        self.children: dict[int, list[int]] = {}
        for row, parent in enumerate(parents):
            prow = pos.get(parent) if parent else None
            if prow is not None:
                self.parent[row] = prow
                self.children.setdefault(prow, []).append(row)

    def relatives(self, row: int) -> list[int]:
        """The parent and the children of a row (not its siblings)."""
        out = list(self.children.get(row, ()))
        if row in self.parent:
            out.append(self.parent[row])
        return out

    def expand(self, rows: Iterable[int]) -> list[int]:
        """Rows related to any of ``rows`` (parents, children, siblings), not in ``rows``."""
        given = set(rows)
        out: set[int] = set()
        for row in given:
            top = self.parent.get(row, row)
            out.add(top)
            out.update(self.children.get(top, ()))
            out.update(self.children.get(row, ()))
        return sorted(out - given)

    def lift(self, scores: Mapping[int, float], weight: float) -> dict[int, float]:
        """Scores where a row may borrow from its best relative:
        max(own, (1 − weight) × own + weight × best relative). A chair whose researcher fits the
        request fits it too, and a researcher inherits part of the chair's fit. Relatives without
        a score do not count."""
        if weight <= 0:
            return dict(scores)
        out = {}
        for row, own in scores.items():
            near = [scores[r] for r in self.relatives(row) if r in scores]
            out[row] = max(own, (1 - weight) * own + weight * max(near)) if near else own
        return out
