"""Levers for large corpora, end to end: compressed vector storage, FAISS threads."""

from __future__ import annotations

import pytest

from matcher.errors import IndexStateError
from matcher.index.quantized import QuantizedIndex
from matcher.indexer import build_index, load_index
from matcher.search import Matcher


def results(matcher, text):
    r = matcher.match_text(text, limit=8)
    return [(m.profile.id, m.score) for m in r.matches]


@pytest.mark.parametrize("storage", ["fp16", "sq8"])
def test_compressed_storage_gives_the_same_matches(indexed_store, settings, gazetteer,
                                                   storage):
    plain = Matcher(indexed_store, settings, gazetteer)
    compressed_settings = settings.replace(vector_storage=storage)
    report = build_index(indexed_store, compressed_settings)
    assert not report.up_to_date and report.manifest["vector_storage"] == storage
    loaded = load_index(indexed_store, compressed_settings)
    assert isinstance(loaded.docs, QuantizedIndex) and loaded.docs.kind == storage
    compressed = Matcher(indexed_store, compressed_settings, gazetteer, index=loaded)
    for text in ("Galvanik und Korrosionsschutz in Freiberg", "Lehrstuhl für Textiltechnik"):
        assert results(compressed, text) == results(plain, text)
    assert results(compressed, "Sensorik") and compressed.match_profile(
        plain.table.ids[0]).matches


def test_changed_storage_makes_the_index_stale(indexed_store, settings):
    with pytest.raises(IndexStateError, match=r"float32, eingestellt ist sq8.*matcher"):
        load_index(indexed_store, settings.replace(vector_storage="sq8"))


def test_inverted_file_above_the_threshold(indexed_store, settings):
    s = settings.replace(vector_storage="sq8", ann_threshold=10, ivf_nprobe=8)
    build_index(indexed_store, s)
    loaded = load_index(indexed_store, s)
    assert loaded.docs.kind == "ivf-sq8" and loaded.docs.nprobe == 8


def test_faiss_threads_setting_is_applied(indexed_store, settings):
    import faiss

    before = faiss.omp_get_max_threads()
    try:
        load_index(indexed_store, settings.replace(faiss_threads=1))
        assert faiss.omp_get_max_threads() == 1
    finally:
        faiss.omp_set_num_threads(before)
