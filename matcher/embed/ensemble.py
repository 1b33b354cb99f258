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
        blocks = []
        for part, w in zip(self.parts, self.weights, strict=True):
            v = part.encode_queries(texts) if is_query else part.encode_documents(texts)
            blocks.append(l2_normalize(v) * np.float32(np.sqrt(w)))
        return np.hstack(blocks)
