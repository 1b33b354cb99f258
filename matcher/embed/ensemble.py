"""Concatenation of several embedders: cosine of the result = weighted mean of their cosines."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from matcher.embed.base import Embedder, l2_normalize


class ConcatEmbedder(Embedder):
    """Each part's unit vectors scaled by sqrt(weight), concatenated and renormalised."""

    def __init__(self, parts: Sequence[Embedder], weights: Sequence[float]) -> None:
        total = float(sum(weights))
        self.parts = list(parts)
        self.weights = [w / total for w in weights]
        self.dim = sum(p.dim for p in parts)
        self.model_id = "concat(" + ",".join(
            f"{p.model_id}*{w:.2f}" for p, w in zip(parts, self.weights, strict=True)) + ")"
        self.batch_size = 10**9  # each part batches on its own

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        blocks = [part.encode_queries(texts) if is_query else part.encode_documents(texts)
                  for part in self.parts]
        return combine(blocks, self.weights)


def combine(blocks: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Concatenate per-model vectors so that the cosine is the weighted mean of the cosines."""
    total = float(sum(weights))
    return l2_normalize(np.hstack([l2_normalize(b) * np.float32(np.sqrt(w / total))
                                   for b, w in zip(blocks, weights, strict=True)]))
