"""Deterministic hashing embedder: character n-grams hashed into a fixed space. For tests only."""

from __future__ import annotations

import hashlib
import re

import numpy as np

from matcher.embed.base import Embedder


class HashingEmbedder(Embedder):
    """Fast, dependency-free, deterministic: similar texts share n-grams, so vectors are close."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.model_id = f"hashing-{dim}"
        self.batch_size = 256

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()):
            padded = f"<{word}>"
            for n in (3, 4):
                for i in range(len(padded) - n + 1):
                    h = hashlib.blake2b(padded[i:i + n].encode(), digest_size=8).digest()
                    idx = int.from_bytes(h[:4], "little") % self.dim
                    v[idx] += 1.0 if h[4] & 1 else -1.0
        return v

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        return np.vstack([self._vector(t) for t in texts])
