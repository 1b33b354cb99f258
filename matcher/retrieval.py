"""Retrieval configurations: keyword, dense, sparse and hybrid rankers behind one interface."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import partial
from typing import Any, Protocol

import numpy as np

from matcher.embed import Embedder, create_embedder
from matcher.filters import Filters, ProfileTable
from matcher.index import set_threads
from matcher.indexer import LoadedIndex
from matcher.lru import LRU
from matcher.models import Profile
from matcher.store import Store
from matcher.text import analyze


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
        self.table = table or ProfileTable(store.table_columns())

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


class QueryEncoder:
    """Encodes query texts with an LRU cache: repeated requests, and the needs of profiles whose
    partners or Inno Slam demand were computed before, cost no model call (8,192 vectors of
    896 floats are 29 MB; a server sees every profile's needs and the frequent requests)."""

    def __init__(self, embedder: Embedder, size: int = 8192) -> None:
        self.embedder = embedder
        self._cache: LRU[str, np.ndarray] = LRU(size)
        self._model = threading.Lock()  # one call into the model at a time

    def __call__(self, text: str) -> np.ndarray:
        return self._cache.get(text, lambda: self._encode(text))

    def _encode(self, text: str) -> np.ndarray:
        with self._model:
            return self.embedder.encode_queries([text])[0]

    def many(self, texts: list[str]) -> np.ndarray:
        """Vectors of ``texts`` (rows in their order): cached ones from the cache, the others
        in one batched model call (kept in the cache unless they would fill an eighth of it:
        a large region's demand must not push out the frequent requests)."""
        found = {t: v for t in dict.fromkeys(texts) if (v := self._cache.peek(t)) is not None}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            with self._model:
                fresh = self.embedder.encode_queries(missing)
            keep = len(missing) <= self._cache.size // 8
            for t, v in zip(missing, fresh, strict=True):
                found[t] = self._cache.get(t, partial(np.asarray, v)) if keep else v
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.vstack([found[t] for t in texts])

    def encode_uncached(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of ``texts`` in one model call, kept out of the cache (for texts the caller
        keeps itself)."""
        with self._model:
            return self.embedder.encode_queries(list(texts))

    def clear(self) -> None:
        """Forget every cached query (after a deletion: the cache holds profile texts)."""
        self._cache.clear()


def query_encoders(settings: Any) -> tuple[QueryEncoder, QueryEncoder]:
    """Query encoders for profile vectors and for sentence vectors; one encoder serves both
    when the settings name the same backend (a query is then encoded once)."""
    doc = QueryEncoder(create_embedder(settings, for_queries=True))
    if settings.sentence_embedder == settings.embedder:
        return doc, doc
    return doc, QueryEncoder(create_embedder(settings, settings.sentence_embedder,
                                             for_queries=True))


class DenseRetriever:
    """Cosine similarity of the query vector to profile vectors (FAISS, filtered by id)."""

    name = "dense"

    def __init__(self, encode: QueryEncoder, index: LoadedIndex, table: ProfileTable,
                 threads: int = 0) -> None:
        """``threads``: FAISS threads of the searching thread (``query_threads``; 0 = leave
        them): FAISS's idle threads spin after a search and slow the next query's encoder."""
        self.encode, self.index, self.table = encode, index, table
        self.threads = threads

    def retrieve(self, text: str, filters: Filters, limit: int = 20) -> list[tuple[str, float]]:
        return self.retrieve_vector(self.encode(text), filters, limit)

    def retrieve_vector(self, vector: np.ndarray, filters: Filters,
                        limit: int = 20) -> list[tuple[str, float]]:
        mask = self.table.mask(filters)
        allowed = None if mask.all() else self.table.pks[mask]
        scores, pks = self.search(vector[None, :], limit, allowed)
        by_pk = self.table.pk_pos
        return [(self.table.ids[by_pk[int(pk)]], float(s))
                for s, pk in zip(scores[0], pks[0], strict=True) if pk >= 0]

    def search(self, vectors: np.ndarray, limit: int,
               allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, pks) of the ``limit`` profile vectors nearest each row of ``vectors``,
        among the ``allowed`` pks (None: all), with the request's FAISS threads."""
        set_threads(self.threads)
        return self.index.docs.search(vectors, limit, allowed)


class SparseRetriever:
    """TF-IDF over character n-grams of lemmatised text (copes with German compounds)."""

    name = "sparse"

    def __init__(self, index: LoadedIndex, table: ProfileTable) -> None:
        self.index, self.table = index, table
        by_pk = table.pk_pos
        self._rows = np.array([by_pk[int(pk)] for pk in index.sparse.ids], dtype=np.int64)

    def retrieve(self, text: str, filters: Filters, limit: int = 20) -> list[tuple[str, float]]:
        return self.retrieve_scores(self.index.sparse.scores(analyze(text)), filters, limit)

    def retrieve_scores(self, scores: np.ndarray, filters: Filters,
                        limit: int = 20) -> list[tuple[str, float]]:
        """The best profiles for precomputed sparse scores (aligned with the sparse index)."""
        full = np.full(len(self.table), -np.inf)
        full[self._rows] = scores
        return top_k(full, self.table.mask(filters), self.table.ids, limit)


class HybridRetriever:
    """Fuses several retrievers over the union of their top ``depth`` candidates.

    ``zscore`` (default): each channel's scores are standardised per query (a candidate a channel
    did not return gets that channel's lowest score) and summed with the weights. ``rrf``:
    reciprocal rank fusion, sum of weight / (k + rank).
    """

    name = "hybrid"

    def __init__(self, parts: list[tuple[Retriever, float]], mode: str = "zscore", k: int = 60,
                 depth: int = 100) -> None:
        self.parts, self.mode, self.k, self.depth = parts, mode, k, depth

    def retrieve(self, text: str, filters: Filters, limit: int = 20) -> list[tuple[str, float]]:
        runs = [(dict(r.retrieve(text, filters, self.depth)), w) for r, w in self.parts]
        return fuse(runs, self.mode, self.k)[:limit]


def fuse(runs: list[tuple[dict[str, float], float]], mode: str = "zscore",
         k: int = 60) -> list[tuple[str, float]]:
    """Fuse weighted runs (id -> score, best first) into one ranking, best first, ties by id
    (see :class:`HybridRetriever`)."""
    where: dict[str, int] = {}
    for run, _ in runs:
        for pid in run:
            where.setdefault(pid, len(where))
    total = np.zeros(len(where), dtype=np.float64)
    for run, weight in runs:
        if not run:
            continue
        at = np.fromiter((where[pid] for pid in run), dtype=np.int64, count=len(run))
        if mode == "rrf":
            total[at] += weight / (k + np.arange(1, len(run) + 1, dtype=np.float64))
            continue
        values = np.fromiter(run.values(), dtype=np.float64, count=len(run))
        mean, std = values.mean(), values.std() + 1e-9
        z = np.full(len(where), (values.min() - mean) / std)  # a channel's miss: its floor
        z[at] = (values - mean) / std
        total += weight * z
    ids, scores = list(where), total.tolist()
    return [(ids[i], scores[i]) for i in sorted(range(len(ids)),
                                                key=lambda i: (-scores[i], ids[i]))]
