"""Compressed vector index: a scan over float16 or 8-bit codes, then exact re-scoring.

The codes (flat, or in an inverted file above the approximate-search threshold) live in memory
and find ``rescore`` × k candidates; the float32 vectors live in a file beside the index, read
through a memory map, and give every returned score exactly. A small filtered subset is scored
exactly from those vectors without touching the codes.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from matcher.index.faiss_index import FaissIndex, _faiss, id_selector
from matcher.rows import StoredRows

STORAGES = ("float32", "fp16", "sq8")
# At most this many allowed ids (or this share of the corpus) are scored exactly, without codes.
EXACT_SUBSET = 20_000
EXACT_SHARE = 0.05


def _quantizer_type(storage: str) -> Any:
    sq = _faiss().ScalarQuantizer
    types = {"fp16": sq.QT_fp16, "sq8": sq.QT_8bit}
    if storage not in types:
        raise ValueError(f"unknown vector storage {storage!r}")
    return types[storage]


def choose_nlist(count: int) -> int:
    """Inverted lists for ``count`` vectors: about 2·√n, at least 39 training points each."""
    return max(1, min(int(2 * math.sqrt(max(count, 1))), count // 39 or 1))


def exact_path(path: Path) -> Path:
    """Where the float32 vectors of an index file are kept."""
    return path.with_name(path.name + ".f32.npy")


def ids_path(path: Path) -> Path:
    """Where the ids (sorted, aligned with the float32 vectors) of an index file are kept."""
    return path.with_name(path.name + ".ids.npy")


class QuantizedIndex(FaissIndex):
    """``storage`` fp16 or sq8; ``nlist`` 0 = flat scan of the codes, else an inverted file
    searched with ``nprobe`` lists. Scores returned are exact inner products of float32 vectors.
    """

    def __init__(self, dim: int, storage: str = "sq8", nlist: int = 0, nprobe: int = 64,
                 rescore: int = 4, index: Any = None,
                 exact: np.ndarray | StoredRows | None = None,
                 exact_ids: np.ndarray | None = None) -> None:
        faiss = _faiss()
        self.storage, self.nlist, self.nprobe, self.rescore = storage, nlist, nprobe, rescore
        if index is None:
            qtype = _quantizer_type(storage)
            if nlist:
                coarse = faiss.IndexFlatIP(dim)
                index = faiss.IndexIVFScalarQuantizer(coarse, dim, nlist, qtype,
                                                      faiss.METRIC_INNER_PRODUCT)
            else:
                index = faiss.IndexIDMap2(faiss.IndexScalarQuantizer(
                    dim, qtype, faiss.METRIC_INNER_PRODUCT))
        kind = f"ivf-{storage}" if nlist else storage
        super().__init__(dim, kind="flat", index=index)
        self.kind = kind
        self._exact = exact if exact is not None else np.zeros((0, dim), dtype=np.float32)
        self._exact_ids = exact_ids if exact_ids is not None else np.zeros(0, dtype=np.int64)

    # -- building ---------------------------------------------------------
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        vecs = np.ascontiguousarray(vectors, dtype=np.float32)
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if not self._index.is_trained:
            self._train(vecs)
        self._index.add_with_ids(vecs, ids)
        all_ids = np.concatenate([self._exact_ids, ids])
        order = np.argsort(all_ids, kind="stable")
        self._exact = np.ascontiguousarray(np.vstack([self._exact, vecs])[order])
        self._exact_ids = all_ids[order]

    def _train(self, vecs: np.ndarray) -> None:
        """Learn code ranges (sq8) and list centroids (IVF) on at most 64 points per list."""
        sample = vecs
        limit = max(64 * max(self.nlist, 1), 50_000)
        if len(vecs) > limit:
            pick = np.random.default_rng(0).choice(len(vecs), limit, replace=False)
            sample = vecs[np.sort(pick)]
        self._index.train(sample)

    def remove(self, ids: np.ndarray) -> int:
        if len(ids) == 0:
            return 0
        sel = _faiss().IDSelectorBatch(np.ascontiguousarray(ids, dtype=np.int64))
        removed = int(self._index.remove_ids(sel))
        keep = ~np.isin(self._exact_ids, ids)
        self._exact = np.ascontiguousarray(self._exact[np.flatnonzero(keep)])
        self._exact_ids = self._exact_ids[keep]
        return removed

    def ids(self) -> np.ndarray:
        return np.asarray(self._exact_ids, dtype=np.int64).copy()

    # -- searching --------------------------------------------------------
    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The exact float32 vectors of some ids (KeyError for an unknown id)."""
        ids = np.asarray(ids, dtype=np.int64)
        pos = np.searchsorted(self._exact_ids, ids)
        pos = np.minimum(pos, max(len(self._exact_ids) - 1, 0))
        if len(ids) and (not len(self._exact_ids) or np.any(self._exact_ids[pos] != ids)):
            raise KeyError("unknown id in vectors()")
        return np.asarray(self._exact[pos], dtype=np.float32)

    def search(self, queries: np.ndarray, k: int,
               allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(1, min(k, self.ntotal)) if self.ntotal else 1
        if allowed is not None:
            allowed = np.ascontiguousarray(allowed, dtype=np.int64)
            if len(allowed) <= max(EXACT_SUBSET, EXACT_SHARE * self.ntotal):
                return self._exact_topk(q, self._known(allowed), k)
        fetch = min(self.ntotal, max(k * self.rescore, k + 32))
        _, cand = self._coarse(q, fetch, allowed)
        scores = np.full((len(q), k), -np.inf, dtype=np.float32)
        found = np.full((len(q), k), -1, dtype=np.int64)
        for row, ids in enumerate(cand):
            s, i = self._exact_topk(q[row:row + 1], ids[ids >= 0], k)
            scores[row], found[row] = s[0], i[0]
        return scores, found

    def _known(self, ids: np.ndarray) -> np.ndarray:
        pos = np.minimum(np.searchsorted(self._exact_ids, ids), max(len(self._exact_ids) - 1, 0))
        return ids[self._exact_ids[pos] == ids] if len(self._exact_ids) else ids[:0]

    def _coarse(self, q: np.ndarray, fetch: int,
                allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        faiss = _faiss()
        selector = id_selector(allowed) if allowed is not None else None
        if self.nlist:
            params = faiss.SearchParametersIVF(nprobe=min(self.nprobe, self.nlist), sel=selector)
        else:
            params = faiss.SearchParameters(sel=selector) if selector is not None else None
        distances, ids = self._index.search(q, fetch, params=params)
        return distances, ids

    def _exact_topk(self, q: np.ndarray, ids: np.ndarray,
                    k: int) -> tuple[np.ndarray, np.ndarray]:
        scores = np.full((len(q), k), -np.inf, dtype=np.float32)
        found = np.full((len(q), k), -1, dtype=np.int64)
        if not len(ids):
            return scores, found
        ids = np.unique(ids)
        sims = q @ self.vectors(ids).T
        take = min(k, len(ids))
        for row in range(len(q)):
            top = np.argpartition(-sims[row], take - 1)[:take]
            top = top[np.lexsort((ids[top], -sims[row, top]))]
            scores[row, :take], found[row, :take] = sims[row, top], ids[top]
        return scores, found

    # -- persistence ------------------------------------------------------
    def save(self, path: Path) -> None:
        _faiss().write_index(self._index, str(path))
        np.save(exact_path(path), np.asarray(self._exact, dtype=np.float32))
        np.save(ids_path(path), self._exact_ids)

    @classmethod
    def load(cls, path: Path, ef_search: int = 512, nprobe: int = 64,
             rescore: int = 4) -> QuantizedIndex:
        """Read the codes into memory; the float32 vectors stay on disk and are read as
        candidates are re-scored."""
        faiss = _faiss()
        index = faiss.read_index(str(path))
        ivf = index if isinstance(index, faiss.IndexIVF) else None
        sq = ivf if ivf is not None else faiss.downcast_index(index.index)
        storage = {int(_quantizer_type(s)): s for s in ("fp16", "sq8")}[int(sq.sq.qtype)]
        # Read row by row with pread: a memory map of this file grew into the process's RSS
        # (whole page-cache folios per touched row), 2 GB at 1M profiles (docs/BENCHMARKS.md).
        exact = StoredRows(exact_path(path))
        return cls(index.d, storage=storage, nlist=int(ivf.nlist) if ivf is not None else 0,
                   nprobe=nprobe, rescore=rescore, index=index, exact=exact,
                   exact_ids=np.load(ids_path(path)))
