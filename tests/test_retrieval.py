from __future__ import annotations

import numpy as np
import pytest

from matcher.errors import ConfigError, IndexStateError
from matcher.filters import Filters, ProfileTable
from matcher.rankers import make_retriever


@pytest.fixture
def table(indexed_store):
    return ProfileTable(indexed_store.table_rows())


@pytest.mark.parametrize("method", ["keyword", "dense", "sparse", "hybrid", "hybrid+keyword"])
def test_every_method_finds_the_obvious_match(indexed_store, settings, table, method):
    r = make_retriever(method, indexed_store, settings, table)
    ids = [pid for pid, _ in r.retrieve("Chrom(VI)-freie Hartverchromung Galvanik", Filters(), 5)]
    assert ids and ids[0] in {"t-co-07", "t-ch-02", "t-rs-02"}


@pytest.mark.parametrize("method", ["keyword", "dense", "sparse", "hybrid"])
def test_filters_hold(indexed_store, settings, table, gazetteer, method):
    r = make_retriever(method, indexed_store, settings, table)
    zittau = gazetteer.resolve("Zittau")
    f = Filters(kinds=("chair", "researcher"), center=(zittau.lat, zittau.lon), radius_km=50)
    hits = r.retrieve("Wasserstoff Elektrolyse Wartung", f, 20)
    assert {pid for pid, _ in hits} <= {"t-ch-03", "t-rs-03"}
    assert hits


@pytest.mark.parametrize("method", ["keyword", "dense", "sparse", "hybrid"])
def test_internal_only_when_logged_in(indexed_store, settings, table, method):
    r = make_retriever(method, indexed_store, settings, table)
    text = "Geigen Bratschen Streichinstrumente akustische Vermessung"
    assert "t-co-08" not in [p for p, _ in r.retrieve(text, Filters(), 20)]
    assert "t-co-08" in [p for p, _ in r.retrieve(text, Filters(logged_in=True), 20)]


def test_unknown_method_and_missing_index(loaded_store, settings):
    with pytest.raises(ConfigError):
        make_retriever("orakel", loaded_store, settings)
    with pytest.raises(IndexStateError):
        make_retriever("dense", loaded_store, settings)


def test_hybrid_rrf_mode(indexed_store, settings, table):
    r = make_retriever("hybrid", indexed_store, settings.replace(fusion="rrf"), table)
    hits = r.retrieve("Brot Haltbarkeit", Filters(), 3)
    assert hits[0][0] == "t-co-06"


def test_mask_by_codes_matches_plain_comparison_and_is_read_only(table):
    from matcher.regions import Region

    f = Filters(kinds=("chair", "researcher", "no-such-kind"))
    mask = table.mask(f)
    want = np.array([k in ("chair", "researcher") for k in table.kinds])
    assert mask.tolist() == want.tolist() and mask.any()
    assert table.mask(f) is mask  # kept for the next call of the same request
    with pytest.raises(ValueError):
        mask[0] = not mask[0]
    region = Region("Test", "test", districts=(str(table.district[0]), "Nirgendwo"))
    in_region = table.mask(Filters(region=region))
    public = np.array([v == "public" for v in table.visibility])
    assert in_region.tolist() == (public & (table.district == table.district[0])).tolist()
