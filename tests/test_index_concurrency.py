"""Concurrent index builds (e.g. ``matcher index`` while the live server updates the index) and
readers: no builder removes another's build, CURRENT always names a complete build, a reader
whose build is replaced while it loads retries with the new one, and only the current build
stays on disk (deleted profiles leave no trace)."""

from __future__ import annotations

import threading

from matcher.indexer import build_index, index_root, load_index, read_manifest
from matcher.store import Store


def test_concurrent_builders_and_readers(indexed_store, settings, data_dir):
    errors: list[str] = []
    loads = [0]
    stop = threading.Event()

    def builder() -> None:
        with Store(data_dir) as store:
            for _ in range(8):
                try:
                    build_index(store, settings, force=True)
                except Exception as exc:
                    errors.append(f"build: {exc!r}")

    def reader() -> None:
        with Store(data_dir) as store:
            while not stop.is_set():
                try:
                    load_index(store, settings)
                    loads[0] += 1
                except Exception as exc:
                    errors.append(f"load: {exc!r}")

    builders = [threading.Thread(target=builder) for _ in range(2)]
    readers = [threading.Thread(target=reader) for _ in range(2)]
    for t in builders + readers:
        t.start()
    for t in builders:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert errors == []
    assert loads[0] > 0
    assert read_manifest(data_dir) is not None
    builds = sorted(p.name for p in index_root(data_dir).iterdir() if p.name.startswith("build-"))
    assert builds == [read_manifest(data_dir)["path"].rsplit("/", 1)[-1]]  # type: ignore[index]
    load_index(indexed_store, settings)
