"""Regional demand: cluster the need sentences of a region's SMEs into labelled, weighted themes."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from matcher.embed.base import l2_normalize
from matcher.text import key_terms


@dataclass
class Theme:
    """A demand theme: its label, weight (SMEs it stands for, by strength) and need sentences."""

    label: str
    weight: float
    smes: list[str]
    sentences: list[str]
    vectors: np.ndarray = field(repr=False)
    terms: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"label": self.label, "weight": round(self.weight, 2), "smes": self.smes,
                "terms": self.terms}


@dataclass
class NeedSentence:
    sme: str
    text: str
    vector: np.ndarray


def _n_clusters(n_smes: int, n_sentences: int) -> int:
    return max(1, min(n_sentences, 8, max(2, round(math.sqrt(n_smes * 1.5)))))


def cluster_needs(needs: Sequence[NeedSentence], background: Sequence[str] = ()) -> list[Theme]:
    """Group need sentences into themes (k-means on unit vectors, fixed seed: deterministic).

    Weight of a theme = number of distinct SMEs in it, each counted by how close its sentences
    are to the theme centre. Labels are the nouns most typical of the theme compared with the
    other themes and ``background`` (e.g. needs of all Saxony).
    """
    if not needs:
        return []
    from sklearn.cluster import KMeans

    vectors = l2_normalize(np.vstack([n.vector for n in needs]))
    k = _n_clusters(len({n.sme for n in needs}), len(needs))
    labels = np.zeros(len(needs), dtype=int) if k == 1 else KMeans(
        n_clusters=k, n_init=10, random_state=0).fit_predict(vectors)
    groups = [[i for i in range(len(needs)) if labels[i] == c] for c in range(k)]
    groups = [g for g in groups if g]
    term_counts = [Counter(t for i in g for t in set(key_terms(needs[i].text))) for g in groups]
    bg = Counter(t for text in background for t in set(key_terms(text)))
    themes = []
    for g, counts in zip(groups, term_counts, strict=True):
        centre = l2_normalize(vectors[g].mean(axis=0))[0]
        strength: dict[str, float] = {}
        for i in g:
            sim = float(vectors[i] @ centre)
            strength[needs[i].sme] = max(strength.get(needs[i].sme, 0.0), sim)
        other = sum((c for c in term_counts if c is not counts), Counter())
        scored = sorted(counts, key=lambda t: (-(counts[t] / (1 + other[t] + 0.1 * bg[t])),
                                               -counts[t], t))
        terms = [t for t in scored if counts[t] >= 1][:4]
        label = " · ".join(t.capitalize() for t in terms[:3]) or needs[g[0]].text[:40]
        themes.append(Theme(label, sum(strength.values()), sorted(strength, key=lambda s: (
            -strength[s], s)), [needs[i].text for i in g], vectors[g], terms))
    themes.sort(key=lambda t: (-t.weight, t.label))
    return themes
