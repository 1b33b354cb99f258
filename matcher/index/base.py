"""The vector index interface: integer ids, inner-product search, filters, persistence."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np


class VectorIndex(ABC):
    """Inner-product search over unit vectors with stable integer ids."""

    kind: str
    dim: int

    @property
    @abstractmethod
    def ntotal(self) -> int:
        """Number of vectors held."""

    @abstractmethod
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under the given int64 ids (ids must not be present yet)."""

    @abstractmethod
    def remove(self, ids: np.ndarray) -> int:
        """Remove ids; returns how many were removed."""

    @abstractmethod
    def search(self, queries: np.ndarray, k: int,
               allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query row; ``allowed`` restricts to these ids. Missing
        results have id -1."""

    @abstractmethod
    def ids(self) -> np.ndarray:
        """All ids held, sorted."""

    @abstractmethod
    def save(self, path: Path) -> None:
        """Write the index to ``path`` (the caller makes the write atomic)."""
