"""The default (real, packaged) models on the German fixture: slow, run by `make test`."""

from __future__ import annotations

import pytest

from matcher.indexer import build_index
from matcher.search import Matcher
from matcher.settings import load_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_matcher(tmp_path_factory, gazetteer):
    from matcher.ingest import ingest_files
    from matcher.store import Store
    from tests.conftest import PROFILES

    data = tmp_path_factory.mktemp("real")
    store = Store(data)
    ingest_files(store, [PROFILES], gazetteer)
    settings = load_settings({"data_dir": str(data)}, environ={})
    build_index(store, settings)
    yield Matcher(store, settings, gazetteer)
    store.close()


@pytest.mark.parametrize(("query", "expected"), [
    ("chromium-free hard coating instead of hexavalent chrome plating", {"t-ch-02", "t-rs-02"}),
    ("maintenance of hydrogen electrolysers", {"t-rs-03", "t-ch-03", "t-su-02"}),
    ("laser welding thin stainless steel without distortion", {"t-rs-01", "t-ch-01"}),
    ("bread that stays fresh longer without additives", {"t-co-06"}),
])
def test_english_queries_find_german_profiles(real_matcher, query, expected):
    top = [m.profile.id for m in real_matcher.match_text(query, limit=3).matches]
    assert set(top) & expected, top


def test_named_client_is_excluded_and_used_for_proximity(real_matcher):
    r = real_matcher.match_text(
        "Partner für die Oelsnitzer Galvanik: Chrom(VI)-freie Hartverchromung", limit=5)
    assert r.parsed.client == ("t-co-07", "Oelsnitzer Galvanik GmbH")
    assert "Für: Oelsnitzer Galvanik GmbH" in r.parsed.interpretation()
    ids = [m.profile.id for m in r.matches]
    assert "t-co-07" not in ids and ids[0] in {"t-ch-02", "t-rs-02"}
    assert all(m.distance_km is not None for m in r.matches)
