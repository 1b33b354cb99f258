"""German explanations of a match: best need ↔ offer sentences, shared terms, distance, signals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matcher.rows import StoredRows, StoredTexts
from matcher.text import key_terms

FIELD_NAMES = {0: "needs", 1: "offers", 2: "description"}
FIELD_LABELS = {"needs": "Bedarf", "offers": "Angebot", "description": "Profil"}


@dataclass
class Sentences:
    """Sentence vectors of one profile, by field code (0 needs, 1 offers, 2 description)."""

    vectors: np.ndarray
    fields: np.ndarray
    texts: list[str]

    def of(self, *codes: int) -> tuple[np.ndarray, list[str]]:
        rows = [i for i, f in enumerate(self.fields) if int(f) in codes]
        return self.vectors[rows], [self.texts[i] for i in rows]


@dataclass
class Pair:
    """A quoted need and the offer that answers it, with their cosine similarity."""

    need: str
    offer: str
    similarity: float
    direction: str  # "their_offer" (your need ↔ their offer) or "your_offer"

    def as_dict(self) -> dict[str, Any]:
        return {"need": self.need, "offer": self.offer, "similarity": round(self.similarity, 3),
                "direction": self.direction}


def best_pair(needs: tuple[np.ndarray, list[str]], offers: tuple[np.ndarray, list[str]],
              direction: str) -> Pair | None:
    """The most similar (need, offer) sentence pair, or ``None`` if a side is empty."""
    nv, nt = needs
    ov, ot = offers
    if not len(nv) or not len(ov):
        return None
    sims = nv @ ov.T
    i, j = np.unravel_index(int(np.argmax(sims)), sims.shape)
    return Pair(nt[i], ot[j], float(sims[i, j]), direction)


def owner_blocks(owner: np.ndarray) -> dict[int, tuple[int, int]]:
    """(start, end) of each owner's rows in sentence arrays that store every owner's
    sentences as one block."""
    blocks = OwnerBlocks(owner)
    return {int(k): (int(a), int(b))
            for k, a, b in zip(blocks.keys, blocks.starts, blocks.ends, strict=True)}


class OwnerBlocks:
    """Where each owner's block of rows lies, as three sorted arrays (a dictionary of a
    million profiles would take ~200 MB of Python objects)."""

    def __init__(self, owner: np.ndarray) -> None:
        owner = np.asarray(owner, dtype=np.int64)
        starts = (np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]) if len(owner)
                  else np.zeros(0, dtype=np.int64))
        ends = np.r_[starts[1:], len(owner)].astype(np.int64)
        keys = owner[starts]
        order = np.argsort(keys, kind="stable")
        self.keys, self.starts, self.ends = keys[order], starts[order], ends[order]

    def spans(self, pks: Any) -> np.ndarray:
        """(start, end) per pk, as an (n, 2) array; (0, 0) for an owner without rows."""
        pks = np.asarray(pks, dtype=np.int64).ravel()
        out = np.zeros((len(pks), 2), dtype=np.int64)
        if not len(self.keys) or not len(pks):
            return out
        at = np.minimum(np.searchsorted(self.keys, pks), len(self.keys) - 1)
        found = self.keys[at] == pks
        out[found, 0], out[found, 1] = self.starts[at[found]], self.ends[at[found]]
        return out

    def get(self, pk: int) -> tuple[int, int]:
        a, b = self.spans([pk])[0]
        return int(a), int(b)


class SentenceBank:
    """The sentence vectors of every profile of an index build, grouped by owner (profile pk);
    scores a query's sentences against many candidates' sentences with one matrix product."""

    def __init__(self, vectors: np.ndarray | StoredRows, fields: np.ndarray,
                 texts: np.ndarray | StoredTexts, owner: np.ndarray) -> None:
        self.vectors, self.fields, self.texts = vectors, np.asarray(fields), texts
        self._blocks = OwnerBlocks(owner)

    def of(self, pk: int) -> Sentences:
        """One profile's sentences."""
        a, b = self._blocks.get(int(pk))
        return Sentences(self.vectors[a:b], self.fields[a:b], [str(t) for t in self.texts[a:b]])

    def best(self, queries: np.ndarray, pks: list[int]) -> SentenceHits:
        """For each profile in ``pks`` and each field, its sentence most similar to any row of
        ``queries`` (and which row that was)."""
        n = len(pks)
        sim = np.full((n, len(FIELD_NAMES)), -np.inf, dtype=np.float32)
        sent = np.zeros((n, len(FIELD_NAMES)), dtype=np.int64)
        query = np.zeros((n, len(FIELD_NAMES)), dtype=np.int64)
        spans = self._blocks.spans(pks)
        lengths = spans[:, 1] - spans[:, 0]
        total = int(lengths.sum())
        if not len(queries) or not total:
            return SentenceHits(sim, sent, query)
        # the bank rows of every candidate's sentences, candidate after candidate
        before = np.cumsum(lengths) - lengths
        idx = np.arange(total) + np.repeat(spans[:, 0] - before, lengths)
        scores = queries @ self.vectors[idx].T  # (queries, sentences of the candidates)
        col_best, col_query = scores.max(axis=0), scores.argmax(axis=0)
        key = (np.repeat(np.arange(n), lengths) * len(FIELD_NAMES)
               + self.fields[idx].astype(np.int64))
        order = np.lexsort((-col_best, key))  # per (candidate, field): best sentence first
        first = order[np.r_[True, key[order][1:] != key[order][:-1]]]
        sim.flat[key[first]] = col_best[first]
        sent.flat[key[first]] = idx[first]
        query.flat[key[first]] = col_query[first]
        return SentenceHits(sim, sent, query)


def finite_or_zero(values: np.ndarray) -> np.ndarray:
    """float64 copy with -inf (no sentence of that field) as 0."""
    out = values.astype(np.float64)
    out[~np.isfinite(out)] = 0.0
    return out


@dataclass
class SentenceHits:
    """Per candidate (row) and field code (column): best similarity (-inf where the candidate
    has no sentence of that field), the bank index of that sentence and the query row."""

    sim: np.ndarray
    sent: np.ndarray
    query: np.ndarray

    def pair(self, i: int, fields: tuple[int, ...], bank: SentenceBank, query_texts: list[str],
             direction: str) -> Pair | None:
        """The best pair of candidate ``i`` among ``fields``: query sentence ↔ candidate
        sentence for ``their_offer``, candidate sentence ↔ query sentence for ``your_offer``."""
        f = max(fields, key=lambda code: self.sim[i, code])  # first field wins a tie
        if not np.isfinite(self.sim[i, f]):
            return None
        mine, theirs = query_texts[int(self.query[i, f])], str(bank.texts[self.sent[i, f]])
        if direction == "their_offer":
            return Pair(mine, theirs, float(self.sim[i, f]), direction)
        return Pair(theirs, mine, float(self.sim[i, f]), direction)

    def rivalries(self) -> np.ndarray:
        """Per row, max(0, best similarity to their needs − to their offers) (float64): a
        candidate that has the same problem is a peer, not a partner."""
        return np.maximum(0.0, finite_or_zero(self.sim[:, 0]) - finite_or_zero(self.sim[:, 1]))

    def rivalry(self, i: int) -> float:
        """:meth:`rivalries` of row ``i``."""
        return float(self.rivalries()[i])


def shared_terms(a: str, b: str, limit: int = 6) -> list[str]:
    """Noun lemmas both texts use; a long word also counts when it is part of a compound on
    the other side ("schweißen" in "laserstrahlschweißen")."""
    la, set_b = key_terms(a), set(key_terms(b))
    out: list[str] = []
    for word in la:
        if word in out or len(word) < 4:
            continue
        if word in set_b or (len(word) >= 6 and any(word in other for other in set_b)):
            out.append(word)
    out.sort(key=len, reverse=True)
    return out[:limit]


@dataclass
class Explanation:
    """Why a result was suggested."""

    pairs: list[Pair] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)
    distance_km: float | None = None
    district: str | None = None
    signals: dict[str, float] = field(default_factory=dict)

    def summary(self, name: str) -> str:
        parts = []
        if self.pairs:
            p = self.pairs[0]
            if p.direction == "their_offer":
                parts.append(f"{name} bietet „{_short(p.offer)}“ – passend zum Bedarf "
                             f"„{_short(p.need)}“.")
            else:
                parts.append(f"{name} sucht „{_short(p.need)}“ – das passt zu Ihrem Angebot "
                             f"„{_short(p.offer)}“.")
        if self.terms:
            parts.append("Gemeinsame Begriffe: " + ", ".join(self.terms[:4]) + ".")
        if self.distance_km is not None:
            where = f" ({self.district})" if self.district else ""
            parts.append(f"Entfernung {self.distance_km:.0f} km{where}.")
        return " ".join(parts)

    def as_dict(self, name: str) -> dict[str, Any]:
        return {"need_offer": [p.as_dict() for p in self.pairs], "terms": self.terms,
                "signals": self.signals, "summary": self.summary(name)}


def _short(text: str, limit: int = 140) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"
