"""Compressed vector storage (fp16, sq8; flat and inverted file) against exact ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.embed.base import l2_normalize
from matcher.index import create_index, load_vector_index
from matcher.index.faiss_index import FaissIndex, id_selector
from matcher.index.quantized import QuantizedIndex, choose_nlist, exact_path

DIM = 64


def clustered(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(max(n // 100, 10), DIM)).astype(np.float32)
    return l2_normalize(centres[rng.integers(0, len(centres), n)]
                        + 0.6 * rng.normal(size=(n, DIM)).astype(np.float32))


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ids = np.arange(1, 6001, dtype=np.int64) * 7  # sparse, non-contiguous ids
    return ids, clustered(len(ids), 1), clustered(50, 2)


def truth(ids: np.ndarray, vecs: np.ndarray, queries: np.ndarray, k: int,
          allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    flat = FaissIndex(DIM)
    flat.add(ids, vecs)
    return flat.search(queries, k, allowed)


def recall(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.mean([len(set(g) & set(w)) / len(w) for g, w in zip(got, want,
                                                                      strict=True)]))


@pytest.mark.parametrize("storage", ["fp16", "sq8"])
def test_flat_codes_with_rescoring_match_exact_search(data, storage):
    ids, vecs, queries = data
    index = create_index(DIM, len(ids), ann_threshold=10**9, storage=storage)
    assert isinstance(index, QuantizedIndex) and index.kind == storage
    index.add(ids, vecs)
    _, want_i = truth(ids, vecs, queries, 20)
    got_s, got_i = index.search(queries, 20)
    assert recall(got_i, want_i) >= 0.98
    # every returned score is the exact float32 inner product
    exact = np.einsum("qd,qkd->qk", queries, vecs[np.searchsorted(ids, got_i)])
    np.testing.assert_allclose(got_s, exact, rtol=1e-5, atol=1e-5)
    assert np.all(np.diff(got_s, axis=1) <= 1e-6)


def test_inverted_file_reaches_recall_against_flat(data):
    ids, vecs, queries = data
    index = create_index(DIM, len(ids), ann_threshold=1000, storage="sq8", nprobe=32)
    assert index.kind == "ivf-sq8" and index.nlist == choose_nlist(len(ids))
    index.add(ids, vecs)
    _, want = truth(ids, vecs, queries, 20)
    _, got = index.search(queries, 20)
    assert recall(got, want) >= 0.98
    index.nprobe = 1  # one list of ~150 is not enough: the setting matters
    _, few = index.search(queries, 20)
    assert recall(few, want) < recall(got, want)


@pytest.mark.parametrize("share", [0.01, 0.5])
def test_filtered_search_is_exact_over_the_allowed_ids(data, share):
    ids, vecs, queries = data
    allowed = np.sort(np.random.default_rng(3).choice(ids, int(share * len(ids)),
                                                      replace=False))
    index = QuantizedIndex(DIM, storage="sq8", nlist=0)
    index.add(ids, vecs)
    _, want = truth(ids, vecs, queries, 10, allowed)
    _, got = index.search(queries, 10, allowed)
    assert set(got.ravel()) <= set(allowed)
    assert recall(got, want) >= 0.98


def test_small_allowed_subset_and_unknown_ids(data):
    ids, vecs, queries = data
    index = QuantizedIndex(DIM, storage="fp16")
    index.add(ids, vecs)
    scores, got = index.search(queries[:1], 5, np.array([ids[3], 999_999], dtype=np.int64))
    assert got[0].tolist() == [ids[3], -1, -1, -1, -1]
    assert scores[0, 0] == pytest.approx(float(queries[0] @ vecs[3]), abs=1e-5)
    assert index.search(queries[:1], 5, np.array([], dtype=np.int64))[1][0].tolist() == [-1] * 5


def test_save_load_reads_float32_vectors_from_disk(data, tmp_path):
    from matcher.rows import StoredRows

    ids, vecs, queries = data
    index = QuantizedIndex(DIM, storage="sq8", nlist=choose_nlist(len(ids)), nprobe=32)
    index.add(ids, vecs)
    path = tmp_path / "docs.faiss"
    index.save(path)
    assert exact_path(path).exists()
    loaded = load_vector_index(path, nprobe=32)
    assert isinstance(loaded, QuantizedIndex)
    assert (loaded.kind, loaded.nlist, loaded.ntotal) == ("ivf-sq8", index.nlist, len(ids))
    assert isinstance(loaded._exact, StoredRows)  # read per request, not held or mapped
    np.testing.assert_array_equal(loaded.ids(), ids)
    np.testing.assert_array_equal(loaded.vectors(ids[[5, 0]]), vecs[[5, 0]])
    for a, b in zip(index.search(queries, 10), loaded.search(queries, 10), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(KeyError):
        loaded.vectors(np.array([3], dtype=np.int64))
    loaded.remove(ids[:3])  # an update of a loaded index reads what it keeps
    np.testing.assert_array_equal(loaded.ids(), ids[3:])
    np.testing.assert_array_equal(loaded.vectors(ids[[7, 4]]), vecs[[7, 4]])


def test_remove_drops_codes_and_vectors(data):
    ids, vecs, queries = data
    index = QuantizedIndex(DIM, storage="sq8")
    index.add(ids, vecs)
    _, before = index.search(queries[:1], 3)
    assert index.remove(before[0]) == 3
    assert index.ntotal == len(ids) - 3
    _, after = index.search(queries[:1], 3)
    assert not set(after[0]) & set(before[0])


def test_bitmap_selector_selects_exactly_the_ids():
    sel = id_selector(np.array([0, 9, 64], dtype=np.int64))
    assert [i for i in range(80) if sel.is_member(i)] == [0, 9, 64]


def test_float32_storage_keeps_flat_and_hnsw():
    assert create_index(DIM, 10, ann_threshold=100).kind == "flat"
    assert create_index(DIM, 100, ann_threshold=100).kind == "hnsw"
