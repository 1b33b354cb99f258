from __future__ import annotations

import numpy as np
import pytest

from matcher.embed.base import l2_normalize
from matcher.index import create_index
from matcher.index.faiss_index import FaissIndex


def seeded_vectors(n: int, dim: int = 64, clusters: int = 40, seed: int = 0) -> np.ndarray:
    """Clustered unit vectors, like real embeddings (not uniform noise)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    v = centres[rng.integers(0, clusters, n)] + 0.35 * rng.normal(size=(n, dim))
    return l2_normalize(v)


def exact_topk(vectors, ids, q, k, allowed=None):
    scores = vectors @ q
    if allowed is not None:
        scores = np.where(np.isin(ids, allowed), scores, -np.inf)
    order = np.argsort(-scores, kind="stable")[:k]
    return ids[order], scores[order]


def test_flat_equals_exact_search():
    v = seeded_vectors(3000)
    ids = np.arange(10, 3010, dtype=np.int64)
    index = FaissIndex(v.shape[1])
    index.add(ids, v)
    queries = seeded_vectors(25, seed=1)
    scores, found = index.search(queries, 20)
    for q, s, f in zip(queries, scores, found, strict=True):
        want_ids, want_scores = exact_topk(v, ids, q, 20)
        assert np.allclose(s, want_scores, atol=1e-5)
        assert set(f) == set(want_ids)


def test_filter_by_allowed_ids():
    v = seeded_vectors(500)
    ids = np.arange(500, dtype=np.int64)
    index = FaissIndex(v.shape[1])
    index.add(ids, v)
    allowed = ids[ids % 7 == 0]
    _, found = index.search(v[3], 10, allowed)
    assert set(found[0]) <= set(allowed)
    want, _ = exact_topk(v, ids, v[3], 10, allowed)
    assert list(found[0]) == list(want)
    _, none = index.search(v[3], 5, np.array([], dtype=np.int64))
    assert (none == -1).all()


def test_incremental_add_remove_and_roundtrip(tmp_path):
    v = seeded_vectors(200)
    index = FaissIndex(v.shape[1])
    index.add(np.arange(100), v[:100])
    index.add(np.arange(100, 200), v[100:])
    assert index.remove(np.array([5, 6, 7])) == 3 and index.ntotal == 197
    _, found = index.search(v[5], 1)
    assert found[0][0] != 5
    index.save(tmp_path / "x.faiss")
    loaded = FaissIndex.load(tmp_path / "x.faiss")
    assert loaded.ntotal == 197 and loaded.kind == "flat"
    assert np.array_equal(loaded.ids(), index.ids())


def test_hnsw_recall_at_20_against_flat():
    v = seeded_vectors(20000, dim=64, clusters=200)
    ids = np.arange(20000, dtype=np.int64)
    hnsw = create_index(64, len(ids), ann_threshold=10000, ef_search=256)
    assert hnsw.kind == "hnsw"
    hnsw.add(ids, v)
    flat = FaissIndex(64)
    flat.add(ids, v)
    queries = seeded_vectors(100, dim=64, clusters=200, seed=9)
    _, got = hnsw.search(queries, 20)
    _, want = flat.search(queries, 20)
    recall = np.mean([len(set(g) & set(w)) / 20 for g, w in zip(got, want, strict=True)])
    assert recall >= 0.98


def test_hnsw_refuses_removal():
    index = FaissIndex(8, kind="hnsw")
    index.add(np.arange(10), seeded_vectors(10, dim=8))
    with pytest.raises(NotImplementedError):
        index.remove(np.array([1]))


def test_sparse_scores_many_equals_one_text_at_a_time():
    from matcher.index.sparse import SparseIndex

    texts = ["laserschweißen edelstahl blech", "rauheit messung oberfläche labor",
             "holz möbel fertigung", "schweißnaht prüfung ultraschall", "brot backen"]
    sparse = SparseIndex()
    sparse.fit(np.arange(100, 105, dtype=np.int64), texts)
    queries = ["verzugsarm schweißen", "oberflächenmessung", "nichts passendes xyz"]
    rows = np.array([4, 0, 3], dtype=np.int64)
    many = sparse.scores_many(queries, rows)
    assert many.shape == (3, 3)
    for t, q in enumerate(queries):
        assert np.allclose(many[:, t], sparse.scores(q)[rows], atol=1e-6)
    assert many[1, 0] > many[0, 0]  # "schweißen" is nearer to the welding rows
    assert sparse.scores_many([], rows).shape == (3, 0)
    score = sparse.row_scorer(rows)  # the same rows against many requests
    for group in (queries, queries[1:], [queries[2], queries[0]]):
        assert np.allclose(score(group), sparse.scores_many(group, rows), atol=1e-6)
    assert score([]).shape == (3, 0)


def test_sparse_transform_gives_exactly_the_vectorizers_rows():
    from matcher.index.sparse import SparseIndex

    texts = ["laserschweißen edelstahl blech dünn verzug", "rauheit messung oberfläche labor",
             "holz möbel fertigung öl oberfläche", "schweißnaht prüfung ultraschall",
             "brot backen haltbarkeit", "größe übung schüler erzgebirge"] * 3
    sparse = SparseIndex()
    sparse.fit(np.arange(len(texts), dtype=np.int64), texts)
    probe = ["verzugsarm schweißen von blech blech blech", "", "xyz qqq", "ÄÖÜ ß",
             "oberflächenmessung im labor", texts[0], "a"]
    ours, theirs = sparse.transform(probe), sparse._vectorizer.transform(probe)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype == np.float32
    assert np.array_equal(ours.indptr, theirs.indptr)
    assert np.array_equal(ours.indices, theirs.indices)
    assert np.array_equal(ours.data, theirs.data)  # bit for bit: rankings cannot move
    assert ours[1].nnz == 0 and ours[0].nnz > 0


def test_sparse_index_from_disk_scores_like_in_memory(tmp_path):
    import pickle

    from matcher.index.sparse import SparseIndex
    from matcher.rows import StoredSparse

    texts = ["laserschweißen edelstahl blech", "rauheit messung oberfläche labor",
             "holz möbel fertigung", "schweißnaht prüfung ultraschall", "brot backen",
             "oberflächentechnik galvanik labor"]
    fitted = SparseIndex()
    fitted.fit(np.arange(10, 16, dtype=np.int64), texts)
    fitted.save(tmp_path / "sparse.pkl")
    memory = SparseIndex.load(tmp_path / "sparse.pkl")
    disk = SparseIndex.load(tmp_path / "sparse.pkl", "disk")
    assert isinstance(disk._matrix, StoredSparse) and not isinstance(memory._matrix,
                                                                     StoredSparse)
    queries = ["verzugsarm schweißen", "oberflächenmessung im labor", "nichts xyz"]
    rows = np.array([5, 0, 3, 1], dtype=np.int64)
    for q in queries:
        expected = fitted.scores(q)
        assert expected.max() > 0 or q == "nichts xyz"
        for loaded in (memory, disk):
            assert np.allclose(loaded.scores(q), expected, atol=1e-6)
            assert np.allclose(loaded.scores(q, 0.5), fitted.scores(q, 0.5), atol=1e-6)
    for loaded in (memory, disk):
        assert np.allclose(loaded.scores_many(queries, rows),
                           fitted.scores_many(queries, rows), atol=1e-6)
        assert np.allclose(loaded.row_scorer(rows)(queries),
                           fitted.scores_many(queries, rows), atol=1e-6)
    # an update of a disk-backed index reads the matrix and keeps the fit
    ids = np.array([10, 12, 13, 15, 99], dtype=np.int64)
    upd_disk = disk.updated(ids, {99: "schweißen von blech"})
    upd_mem = fitted.updated(ids, {99: "schweißen von blech"})
    assert not isinstance(upd_disk._matrix, StoredSparse)
    assert np.allclose(upd_disk.scores("blech schweißen"), upd_mem.scores("blech schweißen"),
                       atol=1e-6)
    with pytest.raises(ValueError, match="storage"):
        SparseIndex.load(tmp_path / "sparse.pkl", "ssd")
    # a build written before the matrix had files of its own (pickled with it) still loads
    with open(tmp_path / "old.pkl", "wb") as fh:
        pickle.dump({"ngram_range": (3, 5), "ids": fitted.ids,
                     "vectorizer": fitted._vectorizer, "matrix": fitted._matrix}, fh)
    for storage in ("memory", "disk"):
        old = SparseIndex.load(tmp_path / "old.pkl", storage)
        assert np.allclose(old.scores(queries[0]), fitted.scores(queries[0]), atol=1e-6)


def test_stored_sparse_rows_equal_the_matrix(tmp_path):
    from scipy import sparse as sp

    from matcher.rows import StoredSparse

    rng = np.random.default_rng(3)
    dense = rng.random((40, 25)).astype(np.float32)
    dense[dense < 0.8] = 0
    dense[7] = 0  # an empty row
    matrix = sp.csr_matrix(dense)
    StoredSparse.save(tmp_path / "m", matrix)
    stored = StoredSparse(tmp_path / "m", matrix.shape)
    for rows in ([3, 4, 5, 9, 7, 0], [39], [], list(range(40)), [5, 5, 2]):
        got = stored.take(rows)
        assert got.shape == (len(rows), 25)
        assert np.array_equal(got.toarray(), dense[np.asarray(rows, dtype=np.int64)])
    with pytest.raises(IndexError):
        stored.take([40])
    with pytest.raises(ValueError, match="rows"):
        StoredSparse(tmp_path / "m", (41, 25))
