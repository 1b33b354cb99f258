from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

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


class _Counting:
    """The hashing embedder, counting the texts it is asked to encode."""

    def __init__(self) -> None:
        from matcher.embed.hashing import HashingEmbedder

        self.inner = HashingEmbedder()
        self.dim = self.inner.dim
        self.seen: list[str] = []

    def encode_queries(self, texts):
        self.seen.extend(texts)
        return self.inner.encode_queries(texts)


def test_query_encoder_many_matches_single_calls_and_uses_the_cache():
    from matcher.retrieval import QueryEncoder

    model = _Counting()
    enc = QueryEncoder(model, size=64)  # type: ignore[arg-type]
    first = enc("Laserschweißen")
    texts = ["Galvanik", "Laserschweißen", "Galvanik", "Holzbau"]
    many = enc.many(texts)
    assert many.shape == (4, model.dim)
    assert model.seen == ["Laserschweißen", "Galvanik", "Holzbau"]  # one call for the misses
    assert np.allclose(many[1], first) and np.allclose(many[0], many[2])
    assert np.allclose(many[3], model.inner.encode_queries(["Holzbau"])[0])
    enc("Holzbau")
    assert model.seen[-1] == "Holzbau" and len(model.seen) == 3  # kept in the cache
    assert enc.many([]).shape == (0, model.dim)
    # a batch of more than an eighth of the cache is not kept
    big = [f"Text {i}" for i in range(9)]
    enc.many(big)
    enc("Text 0")
    assert model.seen.count("Text 0") == 2


def test_dense_search_runs_faiss_with_the_query_threads(indexed_store, settings, table):
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(2)
    r = make_retriever("dense", indexed_store, settings.replace(query_threads=1), table)
    assert r.retrieve("Laserschweißen", Filters(logged_in=False), 5)
    assert faiss.omp_get_max_threads() == 1  # this request thread's FAISS threads
    faiss.omp_set_num_threads(2)
    left = make_retriever("dense", indexed_store, settings.replace(query_threads=0), table)
    left.retrieve("Laserschweißen", Filters(logged_in=False), 5)
    assert faiss.omp_get_max_threads() == 2  # 0 leaves the library's choice alone
    faiss.omp_set_num_threads(before)


def _fuse_by_hand(runs, mode, k):
    """Fusion spelled out one candidate at a time (the definition fuse() must keep)."""
    fused = {pid: 0.0 for run, _ in runs for pid in run}
    for run, weight in runs:
        if not run:
            continue
        if mode == "rrf":
            for rank, pid in enumerate(run, 1):
                fused[pid] += weight / (k + rank)
            continue
        values = np.array(list(run.values()), dtype=np.float64)
        mean, std = values.mean(), values.std() + 1e-9
        floor = (values.min() - mean) / std
        for pid in fused:
            fused[pid] += weight * ((run[pid] - mean) / std if pid in run else floor)
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


@hsettings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.dictionaries(st.sampled_from([f"p{i}" for i in range(12)]),
                                          st.sampled_from([0.1, 0.25, 0.5, 0.9, 1.0, -0.3]),
                                          max_size=10),
                          st.sampled_from([0.0, 0.3, 0.6, 1.0])), min_size=1, max_size=3),
       st.sampled_from(["zscore", "rrf"]))
def test_fusion_equals_its_definition_exactly(runs, mode):
    from matcher.retrieval import fuse

    runs = [(dict(sorted(run.items(), key=lambda kv: -kv[1])), w) for run, w in runs]
    expected = _fuse_by_hand(runs, mode, 20)
    got = fuse(runs, mode, 20)
    assert [pid for pid, _ in got] == [pid for pid, _ in expected]  # ties broken by id
    assert [score for _, score in got] == [float(score) for _, score in expected]
