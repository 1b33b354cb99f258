"""Fixture ladder: gazetteer → data_dir → store → runner, over small German test data."""

from __future__ import annotations

from collections.abc import Iterator
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
