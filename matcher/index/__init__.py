"""Vector and sparse indexes (FAISS, TF-IDF); know nothing of SQLite, Flask or embeddings."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from matcher.index.base import VectorIndex

if TYPE_CHECKING:
    from matcher.index.faiss_index import FaissIndex


def create_index(dim: int, count: int, ann_threshold: int, ef_search: int = 512,
                 storage: str = "float32", nprobe: int = 64) -> VectorIndex:
    """An index for ``count`` vectors: exact flat search below ``ann_threshold``, approximate
    from there on (HNSW for float32 storage, an inverted file for fp16/sq8 codes). Compressed
    storages re-score their candidates with the exact float32 vectors.

    Raises:
        ValueError: unknown storage.
    """
    from matcher.index.faiss_index import FaissIndex

    if storage == "float32":
        kind = "hnsw" if count >= ann_threshold else "flat"
        return FaissIndex(dim, kind=kind, ef_search=ef_search)
    from matcher.index.quantized import QuantizedIndex, choose_nlist

    nlist = choose_nlist(count) if count >= ann_threshold else 0
    return QuantizedIndex(dim, storage=storage, nlist=nlist, nprobe=nprobe)


def load_vector_index(path: Path, ef_search: int = 512, nprobe: int = 64) -> FaissIndex:
    """Read an index written by ``VectorIndex.save`` (compressed ones map their float32
    vectors from disk instead of reading them into memory)."""
    from matcher.index.faiss_index import FaissIndex
    from matcher.index.quantized import QuantizedIndex, exact_path

    if exact_path(path).exists():
        return QuantizedIndex.load(path, ef_search=ef_search, nprobe=nprobe)
    return FaissIndex.load(path, ef_search=ef_search)


def set_threads(threads: int) -> None:
    """Threads FAISS may use for a search or a build (0 = leave the library default)."""
    if threads > 0:
        from matcher.index.faiss_index import _faiss

        _faiss().omp_set_num_threads(threads)


__all__ = ["VectorIndex", "create_index", "load_vector_index", "set_threads"]
