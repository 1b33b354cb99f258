"""Rows of a 2-D array in an ``.npy`` file, read on demand.

Index builds keep their sentence vectors in such a file. A request reads the rows of a few
hundred candidates; reading them with ``pread`` keeps them out of the process's memory (they
pass through the kernel's page cache, which is shared and which the kernel may drop). A memory
map was tried first: on a kernel that caches files in large folios, each touched row mapped a
whole folio and the file soon counted in full towards the process's RSS (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np


class StoredRows:
    """Read-only rows of a C-ordered 2-D ``.npy`` file: ``rows[a:b]``, ``rows[int_array]``,
    ``len(rows)``, ``rows.shape`` and ``np.asarray(rows)`` (all rows) give plain arrays.
    Thread-safe (positional reads); the file stays readable after it is unlinked."""

    def __init__(self, path: str | Path) -> None:
        self._fd: int | None = None
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
        self._fd = os.open(self.path, os.O_RDONLY)

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
        if self._fd is None:
            raise ValueError(f"{self.path}: closed")
        out = np.empty((count, self.shape[1]), dtype=self.dtype)
        size = count * self._row
        done = os.preadv(self._fd, [out.data.cast("B")],
                         self._offset + start * self._row) if size else 0
        if done != size:
            raise OSError(f"{self.path}: short read ({done} of {size} bytes)")
        return out

    def close(self) -> None:
        """Release the file (also done when the object is collected)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        self.close()
