"""Retrieval configurations: a common interface over keyword, dense and hybrid rankers."""

from __future__ import annotations

from typing import Protocol

from matcher.store import Store


class Retriever(Protocol):
    """Ranks profile ids for a free-text query; higher score = more relevant."""

    name: str

    def retrieve(self, query: str, limit: int = 20,
                 kinds: tuple[str, ...] | None = None) -> list[tuple[str, float]]:
        ...


class KeywordRetriever:
    """Plain keyword baseline: SQLite FTS5 with BM25 over name, description, offers, needs."""

    name = "keyword"

    def __init__(self, store: Store) -> None:
        self.store = store
        self._kinds = store.kinds()
        self._visibility = dict(store.db.execute("SELECT id, visibility FROM profiles").fetchall())

    def retrieve(self, query: str, limit: int = 20,
                 kinds: tuple[str, ...] | None = None) -> list[tuple[str, float]]:
        hits = self.store.search_text(query, limit=max(limit * 5, 100))
        out = [(pid, score) for pid, score in hits
               if self._visibility.get(pid) != "hidden"
               and (kinds is None or self._kinds.get(pid) in kinds)]
        return out[:limit]
