"""Arrays, sparse matrices and texts read from files on demand equal what was written."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from matcher.rows import StoredRows


@pytest.fixture
def stored(tmp_path):
    rows = np.random.default_rng(7).standard_normal((500, 12)).astype(np.float32)
    np.save(tmp_path / "rows.npy", rows)
    return rows, StoredRows(tmp_path / "rows.npy")


def test_slices_rows_and_gathers_equal_the_array(stored):
    rows, r = stored
    assert r.shape == (500, 12) and len(r) == 500 and r.dtype == np.float32
    assert np.array_equal(r[10:20], rows[10:20])
    assert np.array_equal(r[::9], rows[::9])
    assert r[30:30].shape == (0, 12) and r[490:900].shape == (10, 12)
    assert np.array_equal(r[7], rows[7]) and np.array_equal(r[-1], rows[-1])
    gather = np.array([4, 5, 6, 300, 2, 3, 499, 0, 0])  # runs, jumps back, a repeat
    assert np.array_equal(r[gather], rows[gather])
    assert r[np.array([], dtype=np.int64)].shape == (0, 12)
    assert np.array_equal(np.asarray(r), rows)
    assert np.array_equal(np.abs(r), np.abs(rows))  # numpy functions take it as an array
    r[gather][0, 0] = 99.0  # results are the caller's own arrays
    assert r[4][0] == rows[4][0]


def test_bad_rows_and_files_are_refused(stored, tmp_path):
    _, r = stored
    for bad in (500, -501, np.array([1, 500]), np.array([-1])):
        with pytest.raises(IndexError):
            r[bad]
    np.save(tmp_path / "flat.npy", np.zeros(5, dtype=np.float32))
    with pytest.raises(ValueError, match="2-D"):
        StoredRows(tmp_path / "flat.npy")
    r.close()
    with pytest.raises(ValueError, match="closed"):
        r[0:1]


def test_rows_stay_readable_after_the_file_is_removed_and_from_threads(stored, tmp_path):
    rows, r = stored
    (tmp_path / "rows.npy").unlink()  # an old build is deleted while a snapshot still reads it
    seen: list[bool] = []

    def read(seed: int) -> None:
        idx = np.random.default_rng(seed).integers(0, 500, 64)
        seen.append(all(np.array_equal(r[idx], rows[idx]) for _ in range(50)))

    threads = [threading.Thread(target=read, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [True] * 4


def test_stored_texts_in_memory_and_from_a_file(tmp_path):
    from matcher.rows import StoredTexts

    texts = ["Wir suchen Partner für Laserstrahlschweißen.", "", "Größe: 3 µm, Öl & Maß",
             "Kurz.", "日本語 auch"]
    offsets, blob = StoredTexts.pack(texts)
    np.save(tmp_path / "t.npy", blob)
    for stored in (StoredTexts(offsets, blob), StoredTexts(offsets, tmp_path / "t.npy")):
        assert len(stored) == 5 and stored.tolist() == texts
        assert stored[2] == texts[2] and stored[-1] == texts[-1] and stored[1] == ""
        assert stored[1:4].tolist() == texts[1:4] and stored[3:3].tolist() == []
        assert stored[np.array([4, 0, 0])].tolist() == [texts[4], texts[0], texts[0]]
        assert stored[::2].tolist() == texts[::2]
        with pytest.raises(IndexError):
            stored[5]
    with pytest.raises(ValueError, match="offsets"):
        StoredTexts(offsets[:-1], blob)
    empty_offsets, empty = StoredTexts.pack([])
    assert StoredTexts(empty_offsets, empty).tolist() == []


def test_owner_blocks_find_each_owners_rows():
    from matcher.explain import OwnerBlocks, owner_blocks

    owner = np.array([7, 7, 3, 3, 3, 12, 5], dtype=np.int64)
    blocks = OwnerBlocks(owner)
    assert blocks.get(3) == (2, 5) and blocks.get(12) == (5, 6) and blocks.get(99) == (0, 0)
    assert blocks.spans([5, 99, 7]).tolist() == [[6, 7], [0, 0], [0, 2]]
    assert owner_blocks(owner) == {7: (0, 2), 3: (2, 5), 12: (5, 6), 5: (6, 7)}
    assert OwnerBlocks(np.zeros(0, dtype=np.int64)).spans([1]).tolist() == [[0, 0]]
