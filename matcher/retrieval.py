"""Retrieval configurations: keyword, dense, sparse and hybrid rankers behind one interface."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from matcher.filters import Filters, ProfileTable
from matcher.models import Profile
from matcher.store import Store


def profile_query_text(p: Profile) -> str:
    """The text a profile searches with: what it needs first, then what it offers and is."""
    return " ".join(x for x in (p.needs, p.offers, p.description) if x)


class Retriever(Protocol):
    """Ranks profile ids for a free-text query; higher score = more relevant."""

    name: str

    def retrieve(self, text: str, filters: Filters, limit: int = 20) -> list[tuple[str, float]]:
        ...


class KeywordRetriever:
    """Plain keyword baseline: SQLite FTS5 with BM25 over name, description, offers, needs."""

    name = "keyword"

    def __init__(self, store: Store, table: ProfileTable | None = None) -> None:
        self.store = store
        self.table = table or ProfileTable(store.table_rows())

    def retrieve(self, text: str, filters: Filters, limit: int = 20) -> list[tuple[str, float]]:
        ok = self.table.mask(filters)
        out = []
        for pid, score in self.store.search_text(text, limit=5000):
            i = self.table.pos.get(pid)
            if i is not None and ok[i]:
                out.append((pid, score))
                if len(out) == limit:
                    break
        return out


def top_k(scores: np.ndarray, mask: np.ndarray, ids: list[str], k: int) -> list[tuple[str, float]]:
    """The k best (id, score) pairs among masked entries."""
    masked = np.where(mask, scores, -np.inf)
    k = min(k, int(mask.sum()))
    if k <= 0:
        return []
    idx = np.argpartition(-masked, k - 1)[:k]
    idx = idx[np.argsort(-masked[idx], kind="stable")]
    return [(ids[i], float(masked[i])) for i in idx]
