"""Vector and sparse indexes (FAISS, TF-IDF); know nothing of SQLite, Flask or embeddings."""

from __future__ import annotations

from matcher.index.base import VectorIndex


def create_index(dim: int, count: int, ann_threshold: int, ef_search: int = 512) -> VectorIndex:
    """Exact flat index below ``ann_threshold`` vectors, HNSW from there on."""
    from matcher.index.faiss_index import FaissIndex

    kind = "hnsw" if count >= ann_threshold else "flat"
    return FaissIndex(dim, kind=kind, ef_search=ef_search)


__all__ = ["VectorIndex", "create_index"]
