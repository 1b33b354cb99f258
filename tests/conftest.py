"""Fixture ladder: gazetteer → data_dir → store → runner, over small German test data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from matcher.geo import Gazetteer, load_gazetteer
from matcher.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
PROFILES = FIXTURES / "profiles.jsonl"
ROOT = Path(__file__).parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def gazetteer() -> Gazetteer:
    return load_gazetteer()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "instance"


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    s = Store(data_dir)
    yield s
    s.close()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def settings(data_dir: Path):
    from matcher.settings import load_settings

    return load_settings({"data_dir": str(data_dir), "embedder": "hashing",
                          "sentence_embedder": "hashing"}, environ={})


@pytest.fixture
def loaded_store(store: Store, gazetteer: Gazetteer) -> Store:
    from matcher.ingest import ingest_files

    ingest_files(store, [PROFILES], gazetteer)
    return store


@pytest.fixture
def indexed_store(loaded_store: Store, settings) -> Store:
    from matcher.indexer import build_index

    build_index(loaded_store, settings)
    return loaded_store


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(data_dir: Path, **env: str) -> Iterator[str]:
    """The production server (``matcher-web``, waitress) over ``data_dir`` on a free loopback
    port with the hashing embedder; ``env`` adds ``MATCHER_*`` variables. Yields the base URL."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    port = free_port()
    environ = {**os.environ, "MATCHER_EMBEDDER": "hashing",
               "MATCHER_SENTENCE_EMBEDDER": "hashing", **env}
    proc = subprocess.Popen([sys.executable, "-c", "from webapp.server import main; main()",
                             "--data-dir", str(data_dir), "--port", str(port)], env=environ,
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
