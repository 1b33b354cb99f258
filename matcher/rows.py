"""Rows of a 2-D array in an ``.npy`` file, read on demand.

Index builds keep their sentence vectors in such a file. A request reads the rows of a few
hundred candidates; reading them with ``pread`` keeps them out of the process's memory (they
pass through the kernel's page cache, which is shared and which the kernel may drop). A memory
map was tried first: on a kernel that caches files in large folios, each touched row mapped a
whole folio and the file soon counted in full towards the process's RSS (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import os
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np


class _OpenFiles:
    """Holds file descriptors (``_fds``) and closes them on :meth:`close` or collection."""

    _fds: list[int]

    def close(self) -> None:
        """Release the files (also done when the object is collected)."""
        for fd in getattr(self, "_fds", []):
            os.close(fd)
        self._fds = []

    def __del__(self) -> None:
        self.close()

    def _fd(self) -> int:
        if not self._fds:
            raise ValueError(f"{getattr(self, 'path', 'file')}: closed")
        return self._fds[0]


class StoredRows(_OpenFiles):
    """Read-only rows of a C-ordered 2-D ``.npy`` file: ``rows[a:b]``, ``rows[int_array]``,
    ``len(rows)``, ``rows.shape`` and ``np.asarray(rows)`` (all rows) give plain arrays.
    Thread-safe (positional reads); the file stays readable after it is unlinked."""

    def __init__(self, path: str | Path) -> None:
        self._fds: list[int] = []
        self.path = Path(path)
        with open(self.path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = read_header(fh)
            self._offset = fh.tell()
        if len(shape) != 2 or fortran or dtype.hasobject:
            raise ValueError(f"{self.path}: expected a C-ordered 2-D numeric array")
        self.shape: tuple[int, int] = (int(shape[0]), int(shape[1]))
        self.dtype = np.dtype(dtype)
        self.ndim = 2
        self._row = self.shape[1] * self.dtype.itemsize
        self._fds = [os.open(self.path, os.O_RDONLY)]

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, slice):
            start, stop, step = key.indices(self.shape[0])
            if step != 1:
                return self[np.arange(start, stop, step)]
            return self._read(start, max(stop - start, 0))
        if isinstance(key, (int, np.integer)):
            i = int(key) + (self.shape[0] if key < 0 else 0)
            if not 0 <= i < self.shape[0]:
                raise IndexError(f"row {key} out of range for {self.shape[0]} rows")
            return self._read(i, 1)[0]
        idx = np.asarray(key, dtype=np.int64).ravel()
        if len(idx) and (idx.min() < 0 or idx.max() >= self.shape[0]):
            raise IndexError(f"rows out of range for {self.shape[0]} rows")
        out = np.empty((len(idx), self.shape[1]), dtype=self.dtype)
        if not len(idx):
            return out
        # one read per run of consecutive rows (a candidate's sentences are stored together)
        breaks = np.flatnonzero(np.diff(idx) != 1) + 1
        starts = np.r_[0, breaks]
        ends = np.r_[breaks, len(idx)]
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            out[a:b] = self._read(int(idx[a]), b - a)
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        rows = self._read(0, self.shape[0])
        return rows if dtype is None else rows.astype(dtype)

    def _read(self, start: int, count: int) -> np.ndarray:
        out = np.empty((count, self.shape[1]), dtype=self.dtype)
        size = count * self._row
        done = os.preadv(self._fd(), [out.data.cast("B")],
                         self._offset + start * self._row) if size else 0
        if done != size:
            raise OSError(f"{self.path}: short read ({done} of {size} bytes)")
        return out


def _npy_layout(path: Path) -> tuple[tuple[int, ...], np.dtype, int]:
    """Shape, dtype and data offset of a C-ordered numeric ``.npy`` file."""
    with open(path, "rb") as fh:
        version = np.lib.format.read_magic(fh)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read_header(fh)
        offset = fh.tell()
    if fortran or dtype.hasobject:
        raise ValueError(f"{path}: expected a C-ordered numeric array")
    return tuple(int(s) for s in shape), np.dtype(dtype), offset


class StoredSparse(_OpenFiles):
    """Rows of a compressed sparse row matrix kept in three ``.npy`` files (``PREFIX.data``,
    ``PREFIX.indices``, ``PREFIX.indptr``): the row pointers are read into memory, the
    entries of the rows a caller asks for are read with ``pread``. A matrix saved column by
    column (CSC) is read the same way, its columns being the rows here."""

    def __init__(self, prefix: str | Path, shape: tuple[int, int]) -> None:
        self._fds: list[int] = []
        self.prefix = Path(prefix)
        self.shape = (int(shape[0]), int(shape[1]))
        self.indptr = np.load(f"{self.prefix}.indptr.npy")
        if len(self.indptr) != self.shape[0] + 1:
            raise ValueError(f"{self.prefix}: {len(self.indptr) - 1} rows, expected "
                             f"{self.shape[0]}")
        self.nnz = int(self.indptr[-1])
        self._parts: list[tuple[int, np.dtype, int]] = []
        for name in ("data", "indices"):
            path = Path(f"{self.prefix}.{name}.npy")
            shape_, dtype, offset = _npy_layout(path)
            if shape_ != (self.nnz,):
                raise ValueError(f"{path}: {shape_} entries, expected {self.nnz}")
            fd = os.open(path, os.O_RDONLY)
            self._fds.append(fd)
            self._parts.append((fd, dtype, offset))

    @staticmethod
    def save(prefix: str | Path, matrix: Any) -> None:
        """Write a ``scipy.sparse`` CSR (or CSC) matrix as the three files."""
        for name in ("data", "indices", "indptr"):
            np.save(f"{prefix}.{name}.npy", np.ascontiguousarray(getattr(matrix, name)))

    def take(self, rows: Any) -> Any:
        """The given rows (positions, in this order) as a ``scipy.sparse.csr_matrix``."""
        from scipy import sparse as sp

        idx = np.asarray(rows, dtype=np.int64).ravel()
        if len(idx) and (idx.min() < 0 or idx.max() >= self.shape[0]):
            raise IndexError(f"rows out of range for {self.shape[0]} rows")
        starts, ends = self.indptr[idx], self.indptr[idx + 1]
        lengths = ends - starts
        indptr = np.zeros(len(idx) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        self._fd()  # (raises when closed)
        (fd_d, dt_d, off_d), (fd_i, dt_i, off_i) = self._parts
        data = np.empty(int(indptr[-1]), dtype=dt_d)
        indices = np.empty(int(indptr[-1]), dtype=dt_i)
        # one read per run of rows that lie one after the other in the file
        if len(idx):
            joined = np.flatnonzero(starts[1:] != ends[:-1]) + 1
            run_a, run_b = np.r_[0, joined], np.r_[joined, len(idx)]
            for a, b in zip(run_a.tolist(), run_b.tolist(), strict=True):
                lo, hi, at = int(starts[a]), int(ends[b - 1]), int(indptr[a])
                _pread_into(fd_d, data[at:at + hi - lo], off_d + lo * dt_d.itemsize)
                _pread_into(fd_i, indices[at:at + hi - lo], off_i + lo * dt_i.itemsize)
        return sp.csr_matrix((data, indices, indptr), shape=(len(idx), self.shape[1]))


def _pread_into(fd: int, out: np.ndarray, offset: int) -> None:
    size = out.nbytes
    done = os.preadv(fd, [out.data.cast("B")], offset) if size else 0
    if done != size:
        raise OSError(f"short read ({done} of {size} bytes)")


class StoredTexts(_OpenFiles):
    """Read-only strings kept as one UTF-8 buffer and the offsets between them: in memory (a
    numpy buffer instead of a Python object per string) or, opened from a ``.npy`` file of
    bytes, read with ``pread`` as callers ask for them. ``texts[i]`` is a ``str``,
    ``texts[a:b]`` and ``texts[int_array]`` are object arrays, ``tolist()`` gives them all."""

    def __init__(self, offsets: np.ndarray, data: np.ndarray | str | Path) -> None:
        self._fds: list[int] = []
        self.offsets = np.asarray(offsets, dtype=np.int64)
        if isinstance(data, np.ndarray):
            self._data: np.ndarray | None = np.ascontiguousarray(data, dtype=np.uint8)
            size = len(self._data)
        else:
            self._data = None
            shape, dtype, self._offset = _npy_layout(Path(data))
            if dtype != np.uint8 or len(shape) != 1:
                raise ValueError(f"{data}: expected a 1-D array of bytes")
            size = shape[0]
            self._fds = [os.open(data, os.O_RDONLY)]
        if not len(self.offsets) or self.offsets[0] != 0 or self.offsets[-1] != size:
            raise ValueError("text offsets do not fit the text buffer")

    @staticmethod
    def pack(texts: Any) -> tuple[np.ndarray, np.ndarray]:
        """(offsets, UTF-8 bytes) of a sequence of strings."""
        encoded = [str(t).encode("utf-8") for t in texts]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in encoded], out=offsets[1:])
        return offsets, np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def _bytes(self, start: int, stop: int) -> bytes:
        if self._data is not None:
            return self._data[start:stop].tobytes()
        out = np.empty(stop - start, dtype=np.uint8)
        _pread_into(self._fd(), out, self._offset + start)
        return out.tobytes()

    def _span(self, a: int, b: int) -> list[str]:
        """Strings a..b-1, read in one piece."""
        lo = int(self.offsets[a])
        raw = self._bytes(lo, int(self.offsets[b]))
        cuts = (self.offsets[a:b + 1] - lo).tolist()
        return [raw[x:y].decode("utf-8") for x, y in pairwise(cuts)]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step != 1:
                return self[np.arange(start, stop, step)]
            return _objects(self._span(start, max(stop, start)))
        if isinstance(key, (int, np.integer)):
            i = int(key) + (len(self) if key < 0 else 0)
            if not 0 <= i < len(self):
                raise IndexError(f"text {key} out of range for {len(self)} texts")
            return self._span(i, i + 1)[0]
        idx = np.asarray(key, dtype=np.int64).ravel()
        if len(idx) and (idx.min() < 0 or idx.max() >= len(self)):
            raise IndexError(f"texts out of range for {len(self)} texts")
        return _objects([self._span(int(i), int(i) + 1)[0] for i in idx])

    def tolist(self) -> list[str]:
        return self._span(0, len(self))


def _objects(items: list[str]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out
