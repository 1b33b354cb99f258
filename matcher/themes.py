"""Regional demand: group a region's SMEs by what they need into labelled, weighted themes."""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from matcher.lru import LRU
from matcher.text import key_terms


@dataclass
class Theme:
    """A demand theme: its label, weight (SMEs it stands for) and member SMEs (rows)."""

    label: str
    weight: float
    smes: list[str]
    rows: list[int] = field(repr=False)
    terms: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"label": self.label, "weight": round(self.weight, 2), "smes": self.smes,
                "terms": self.terms}


def n_themes(n_smes: int) -> int:
    """How many themes for a region: about sqrt(1.5 n), between 2 and 8."""
    return max(1, min(n_smes, 8, max(2, round(math.sqrt(n_smes * 1.5)))))


def cluster_smes(ids: Sequence[str], needs: Sequence[str], vectors: np.ndarray,
                 background: Sequence[str] = ()) -> list[Theme]:
    """Group SMEs by the vectors of their needs (k-means, fixed seed: deterministic) and label
    each group with its most characteristic nouns: frequent in the group, rare in
    ``background`` (e.g. the needs of all SMEs of Saxony)."""
    if not len(ids):
        return []
    k = n_themes(len(ids))
    labels = np.zeros(len(ids), dtype=int) if k == 1 else _kmeans(vectors, k)
    groups = [[i for i in range(len(ids)) if labels[i] == c] for c in range(k)]
    groups = [g for g in groups if g]
    counts = [Counter(t for i in g for t in set(key_terms(needs[i]))) for g in groups]
    df = Counter(t for text in (background or needs) for t in set(key_terms(text)))
    n_bg = len(background or needs)
    themes = []
    for g, c in zip(groups, counts, strict=True):
        centre = vectors[g].mean(axis=0)
        centre /= np.linalg.norm(centre) or 1.0
        order = sorted(g, key=lambda i: (-float(vectors[i] @ centre), ids[i]))
        usable = [t for t in c if 5 <= len(t) <= 20] or list(c)
        # Ties (most terms occur once) go to the terms of the SMEs nearest the theme's centre.
        first: dict[str, int] = {}
        for rank, i in enumerate(order):
            for t in key_terms(needs[i]):
                first.setdefault(t, rank)
        terms = sorted(usable, key=lambda t: (
            -c[t] * math.log((n_bg + 1) / (df[t] + 1)) if c[t] > 1 else 0.0, first.get(t, 99),
            -math.log((n_bg + 1) / (df[t] + 1)), t))[:4]
        label = " · ".join(_display(t) for t in terms[:3]) or needs[order[0]][:40]
        themes.append(Theme(label, float(len(g)), [ids[i] for i in order], order, terms))
    themes.sort(key=lambda t: (-t.weight, t.label))
    return themes


_KMEANS: LRU[tuple[str, int], np.ndarray] = LRU(256)


def _kmeans(vectors: np.ndarray, k: int) -> np.ndarray:
    """k-means labels (fixed seed), remembered by the vectors' bytes: after a profile edit
    only the regions whose SMEs changed are clustered again."""
    from sklearn.cluster import KMeans

    def fit() -> np.ndarray:
        labels = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(vectors)
        labels.flags.writeable = False
        return labels

    data = np.ascontiguousarray(vectors)
    return _KMEANS.get((f"{hashlib.sha256(data.tobytes()).hexdigest()}{data.shape}{data.dtype}",
                        k), fit)


def _display(term: str) -> str:
    return "-".join(part[:1].upper() + part[1:] for part in term.split("-"))
