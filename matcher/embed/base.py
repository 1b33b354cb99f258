"""The embedder interface: texts in, L2-normalised float32 vectors out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from matcher.errors import MissingPackageError


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Return float32 rows scaled to unit length (zero rows stay zero)."""
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim == 1:
        v = v[None, :]
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return np.ascontiguousarray(v / np.maximum(norms, 1e-12), dtype=np.float32)


class Embedder(ABC):
    """A sentence embedding model.

    ``model_id`` names the model and its settings exactly: vectors of two different ids are never
    mixed. Documents and queries may be encoded differently (e5's ``passage:``/``query:``).
    """

    model_id: str
    dim: int

    @abstractmethod
    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        """Raw vectors for a batch (any float dtype, any scale)."""

    batch_size: int = 32
    # texts a bulk caller (the indexer) hands over per call: enough to keep remote workers busy
    # between the caller's own steps (caching, progress)
    dispatch_size: int = 64

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for documents (profiles, sentences): shape (n, dim), float32, unit length."""
        return self._batched(list(texts), is_query=False)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for search queries: shape (n, dim), float32, unit length."""
        return self._batched(list(texts), is_query=True)

    def _batched(self, texts: list[str], is_query: bool) -> np.ndarray:
        """Batches of similar length (less padding for transformer models), rows in the
        order of ``texts``."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        parts = [self._encode([texts[j] for j in order[i:i + self.batch_size]], is_query)
                 for i in range(0, len(texts), self.batch_size)]
        out = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
        out[order] = np.vstack(parts)
        return l2_normalize(out)


def require(module: str, package: str) -> object:
    """Import a backend module lazily, failing with the pip package to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingPackageError(
            f"Das Embedding-Backend braucht das Paket '{package}': pip install {package}"
        ) from exc
