"""Embedding on a Ray cluster, for corpora that outgrow one machine.

``matcher index --ray ADDRESS`` hands the texts that miss the embedding cache to Ray actors, one
per CPU of the cluster, each holding its own copy of the model with one thread (a second
encoder thread per process only spins against the other processes, docs/SCALING.md). Texts are
cut into contiguous shards and the vectors come back in input order, so the cache, the FAISS
index and the manifest are the same as on the single-machine path.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from matcher.embed import Embedder, create_embedder
from matcher.embed.base import require
from matcher.errors import ConfigError
from matcher.settings import Settings

LOCAL = "local"


class _Worker:
    """Body of a Ray actor: one embedder, loaded once."""

    def __init__(self, values: dict[str, Any], name: str) -> None:
        settings = Settings({**values, "embed_threads": 1})
        self.embedder = create_embedder(settings, name)

    def describe(self) -> tuple[str, int]:
        return self.embedder.model_id, self.embedder.dim

    def encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        if is_query:
            return self.embedder.encode_queries(texts)
        return self.embedder.encode_documents(texts)


def connect(address: str, num_cpus: int | None = None) -> Any:
    """Join the Ray cluster at ``address`` (``local`` starts one on this machine) and return
    the ``ray`` module; a second call reuses the connection.

    Raises:
        MissingPackageError: Ray is not installed.
        ConfigError: no cluster answers at the address.
    """
    ray: Any = require("ray", "ray")
    if ray.is_initialized():
        return ray
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                               "configure_logging": False}
    try:
        if address == LOCAL:
            ray.init(num_cpus=num_cpus, **options)
        else:
            ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ConfigError(
            f"Ray-Cluster unter {address!r} nicht erreichbar ({exc}). Adresse prüfen "
            "(z. B. 'ray://host:10001' oder 'host:6379') oder '--ray local' verwenden.") from exc
    return ray


def shards(count: int, parts: int) -> list[tuple[int, int]]:
    """Contiguous (start, end) ranges that split ``count`` items into at most ``parts``."""
    parts = max(1, min(parts, count))
    bounds = np.linspace(0, count, parts + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in itertools.pairwise(bounds) if b > a]


class RayEmbedder(Embedder):
    """An embedder whose work runs on Ray actors; same ``model_id`` and vectors as the backend
    it stands for."""

    def __init__(self, settings: Settings, name: str, address: str,
                 workers: int | None = None) -> None:
        ray = connect(address)
        count = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        actor = ray.remote(num_cpus=1)(_Worker)
        self._ray = ray
        self.workers = [actor.remote(settings.as_dict(), name) for _ in range(count)]
        self.model_id, self.dim = ray.get(self.workers[0].describe.remote())
        self.batch_size = 10**9  # the workers batch on their own
        # One round trip per 64 texts left the workers idle most of the time while the
        # indexer's own thread (spaCy) held the caller's interpreter: 1,024 texts per worker.
        self.dispatch_size = 1024 * len(self.workers)

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        parts = shards(len(texts), len(self.workers))
        futures = [w.encode.remote(texts[a:b], is_query)
                   for w, (a, b) in zip(self.workers, parts, strict=False)]
        return np.vstack(self._ray.get(futures))

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.ascontiguousarray(self._encode(texts, False), dtype=np.float32)

    def close(self) -> None:
        """Stop the actors (the cluster keeps running)."""
        for w in self.workers:
            self._ray.kill(w)
        self.workers = []


def ray_embedders(settings: Settings, address: str,
                  workers: int | None = None) -> Callable[[str], Embedder]:
    """A source of embedders by backend name for ``build_index(embedders=…)``: each backend
    gets its own actors on the cluster, created on first use."""
    made: dict[str, RayEmbedder] = {}

    def get(name: str) -> Embedder:
        if name not in made:
            made[name] = RayEmbedder(settings, name, address, workers)
        return made[name]

    return get
