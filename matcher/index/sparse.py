"""Sparse channel: TF-IDF over character n-grams of analysed (lemmatised) text."""

from __future__ import annotations

import itertools
import pickle
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from matcher.lru import LRU
from matcher.rows import StoredSparse

# values of the sparse_storage setting: the matrix read into memory, or left in its files
SPARSE_STORAGE = ("memory", "disk")
# file prefixes of the matrix beside ``sparse.pkl``: row by row and column by column
ROWS_PREFIX, COLUMNS_PREFIX = "sparse_rows", "sparse_columns"

# query texts (or lists of them, e.g. one region's SME needs) whose TF-IDF rows are kept
QUERY_ROWS_KEPT = 2048

class SparseIndex:
    """Rows aligned with ``ids``; cosine scores via a sparse matrix product. The matrix is
    held in memory, or (loaded with ``storage="disk"``) read from its files as requests need
    rows or columns of it."""

    kind = "tfidf-char"

    def __init__(self, ngram_range: tuple[int, int] = (3, 5)) -> None:
        self.ngram_range = ngram_range
        self.ids = np.zeros(0, dtype=np.int64)
        self._vectorizer: Any = None
        self._matrix: Any = None  # scipy CSR matrix, or StoredSparse rows (disk)
        self._stored_columns: StoredSparse | None = None  # the columns, when on disk
        self.fit_rows = 0
        # query texts -> their TF-IDF rows (shared with the copies made by ``updated``)
        self._queries: LRU[tuple[str, ...], Any] = LRU(QUERY_ROWS_KEPT)

    def fit(self, ids: np.ndarray, texts: list[str]) -> None:
        """Learn the vocabulary from the (analysed) texts and index them."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        self._vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=self.ngram_range,
                                           sublinear_tf=True, min_df=1, dtype=np.float32)
        self._matrix = self._vectorizer.fit_transform(texts).tocsr()
        self._stored_columns = None
        self.ids = np.asarray(ids, dtype=np.int64)
        self.fit_rows = len(texts)  # rows the vocabulary and idf were fitted on
        self._queries = LRU(QUERY_ROWS_KEPT)

    def clear_queries(self) -> None:
        """Forget the TF-IDF rows kept for request texts."""
        self._queries.clear()

    def updated(self, ids: np.ndarray, texts: Mapping[int, str]) -> SparseIndex:
        """A copy over ``ids`` that keeps this fit's vocabulary and weights: rows of the ids in
        ``texts`` (id -> analysed text) are computed anew, the others are copied.

        Raises:
            ValueError: an id is neither indexed here nor in ``texts``, or nothing is fitted.
        """
        from scipy import sparse as sp

        if self._vectorizer is None:
            raise ValueError("SparseIndex.updated needs a fitted index")
        new = [int(i) for i in texts]
        where = {int(i): r for r, i in enumerate(self.ids)}
        where.update({i: len(self.ids) + r for r, i in enumerate(new)})
        rows = np.array([where[int(i)] for i in ids], dtype=np.int64)
        # only the kept rows are read (from memory or the files), then the new ones appended
        kept = np.unique(rows[rows < len(self.ids)])
        parts = [self._row_block(kept)]
        if new:
            parts.append(self.transform([texts[i] for i in new]))
        base = sp.vstack(parts).tocsr() if len(parts) > 1 else parts[0]
        at = np.where(rows < len(self.ids), np.searchsorted(kept, rows),
                      len(kept) + rows - len(self.ids))
        out = SparseIndex(self.ngram_range)
        out._vectorizer, out._matrix = self._vectorizer, base[at]
        out.ids = np.asarray(ids, dtype=np.int64)
        out._queries = self._queries  # same vocabulary: the same query rows
        out.fit_rows = self.fit_rows
        return out

    def scores(self, text: str, max_df: float = 1.0) -> np.ndarray:
        """Cosine similarity of one analysed query text to every row (aligned with ``ids``).
        With ``max_df`` below 1 the query's n-grams that were in more than that share of the
        rows when the vocabulary was fitted are left out: lower bounds of the scores that read
        far fewer postings (for choosing candidates; the left-out n-grams are fixed until the
        next fit)."""
        if self._vectorizer is None or not len(self.ids):
            return np.zeros(len(self.ids), dtype=np.float32)
        cached = getattr(self, "_last", None)
        if (cached is not None and cached[0] == (text, max_df)
                and cached[1] is self._matrix):
            return cached[2]  # a request scores the same text twice (retrieval, re-ranking)
        q = self._query_rows([text])
        indices, data = q.indices, q.data
        if max_df < 1.0:
            keep = ~self._common(max_df)[indices]
            indices, data = indices[keep], data[keep]
        # Only the query's n-gram columns are read (3 ms instead of 130 ms for a product with
        # the whole matrix at 100,000 profiles, docs/BENCHMARKS.md).
        scores = np.asarray(self._column_block(indices) @ data, dtype=np.float32).ravel()
        scores.flags.writeable = False
        self._last = ((text, max_df), self._matrix, scores)
        return scores

    def _common(self, max_df: float) -> np.ndarray:
        """Per n-gram of the vocabulary: was it in more than ``max_df`` of the rows the
        vocabulary was fitted on (read back from the fitted idf, ln((1+n)/(1+df)) + 1)."""
        cached = getattr(self, "_common_cache", None)
        if cached is not None and cached[0] == max_df:
            return cached[1]
        idf = np.asarray(self._vectorizer.idf_, dtype=np.float64)
        n = self.fit_rows
        df = (1 + n) * np.exp(1 - idf) - 1
        common = df > max_df * n + 1e-6
        self._common_cache = (max_df, common)
        return common

    def scores_many(self, texts: list[str], rows: np.ndarray) -> np.ndarray:
        """Cosine similarity of several analysed texts (columns) to the given rows (positions
        in ``ids``), in one sparse product: ``out[r, t]`` equals ``scores(texts[t])[rows[r]]``."""
        if self._vectorizer is None or not len(rows) or not texts:
            return np.zeros((len(rows), len(texts)), dtype=np.float32)
        q = self._query_rows(texts)
        return np.asarray((self._row_block(rows) @ q.T).toarray(), dtype=np.float32)

    def row_scorer(self, rows: np.ndarray) -> Callable[[list[str]], np.ndarray]:
        """For many requests scored against the same few ``rows`` (positions in ``ids``): a
        function of analysed texts whose ``out[r, t]`` equals ``scores_many(texts, rows)``.
        The rows are unpacked once, so each call reads only the texts' n-gram columns."""
        dense = (self._row_block(rows).toarray() if self._vectorizer is not None
                 else np.zeros((len(rows), 0), dtype=np.float32))

        def score(texts: list[str]) -> np.ndarray:
            out = np.zeros((len(rows), len(texts)), dtype=np.float32)
            if self._vectorizer is None or not len(rows) or not texts:
                return out
            q = self._query_rows(texts)
            for t in range(len(texts)):
                a, b = q.indptr[t], q.indptr[t + 1]
                out[:, t] = dense[:, q.indices[a:b]] @ q.data[a:b]
            return out

        return score

    def _query_rows(self, texts: list[str]) -> Any:
        """The TF-IDF rows of analysed query texts (kept per list of texts)."""
        return self._queries.get(tuple(texts), lambda: self.transform(texts))

    def transform(self, texts: list[str]) -> Any:
        """The TF-IDF rows of analysed texts as a CSR matrix: the same rows as the fitted
        vectoriser's ``transform`` (same operations and dtypes, tested), without its input
        validation, which took most of the time of one short request text."""
        from scipy import sparse as sp

        vectorizer = self._vectorizer
        if vectorizer.norm != "l2":  # fit() uses l2; any other vectoriser is asked itself
            return vectorizer.transform(texts)
        parts = getattr(self, "_transform_parts", None)
        if parts is None or parts[0] is not vectorizer:
            parts = (vectorizer, vectorizer.build_analyzer(), vectorizer.vocabulary_,
                     vectorizer.idf_)
            self._transform_parts = parts
        _, analyze, vocabulary, idf = parts
        indices: list[int] = []
        counts: list[int] = []
        indptr = [0]
        for text in texts:
            seen: dict[int, int] = {}
            for gram in analyze(text):
                column = vocabulary.get(gram)
                if column is not None:
                    seen[column] = seen.get(column, 0) + 1
            for column in sorted(seen):
                indices.append(column)
                counts.append(seen[column])
            indptr.append(len(indices))
        data = np.asarray(counts, dtype=vectorizer.dtype)
        columns = np.asarray(indices, dtype=np.int32)
        if vectorizer.sublinear_tf:
            np.log(data, data)
            data += 1.0
        data *= idf[columns]
        bounds = np.asarray(indptr, dtype=np.int32)
        for a, b in itertools.pairwise(bounds):
            # as scikit-learn: squares in the data's dtype, summed one by one in float64,
            # each value divided in float64
            total = np.cumsum(np.square(data[a:b]), dtype=np.float64)
            if b > a and total[-1] > 0:
                data[a:b] = data[a:b].astype(np.float64) / np.sqrt(total[-1])
        return sp.csr_matrix((data, columns, bounds), shape=(len(texts), len(vocabulary)))

    def _row_block(self, rows: Any) -> Any:
        """The given rows (positions in ``ids``) as a CSR matrix."""
        if isinstance(self._matrix, StoredSparse):
            return self._matrix.take(rows)
        return self._matrix[np.asarray(rows)]

    def _column_block(self, columns: np.ndarray) -> Any:
        """The given n-gram columns of every row, as a (rows × columns) sparse matrix."""
        if self._stored_columns is not None:
            return self._stored_columns.take(columns).T
        return self._columns()[:, columns]

    def _in_memory(self) -> Any:
        """The whole matrix in memory (read from the files when it is on disk)."""
        if isinstance(self._matrix, StoredSparse):
            return self._matrix.take(np.arange(self._matrix.shape[0]))
        return self._matrix

    def _columns(self) -> Any:
        """The matrix column by column (built on first use, kept with the matrix it mirrors)."""
        cached = getattr(self, "_csc", None)
        if cached is None or cached[0] is not self._matrix:
            cached = (self._matrix, self._in_memory().tocsc())
            self._csc = cached
        return cached[1]

    def save(self, path: Path) -> None:
        """Write the fit to ``path`` and the matrix, by rows and by columns, beside it."""
        matrix = self._in_memory()
        with open(path, "wb") as fh:
            pickle.dump({"ngram_range": self.ngram_range, "ids": self.ids,
                         "vectorizer": self._vectorizer, "fit_rows": self.fit_rows,
                         "shape": None if matrix is None else tuple(matrix.shape)}, fh,
                        protocol=pickle.HIGHEST_PROTOCOL)
        if matrix is not None:
            StoredSparse.save(path.parent / ROWS_PREFIX, matrix)
            StoredSparse.save(path.parent / COLUMNS_PREFIX, self._columns())

    @classmethod
    def load(cls, path: Path, storage: str = "memory") -> SparseIndex:
        """The index saved at ``path``: its matrix read into memory (``storage`` ``memory``)
        or read from the files on demand (``disk``). Builds written before the matrix had
        files of its own load into memory.

        Raises:
            ValueError: unknown ``storage``, or the matrix files do not fit together.
        """
        if storage not in SPARSE_STORAGE:
            raise ValueError(f"unknown sparse storage {storage!r}")
        with open(path, "rb") as fh:
            data = pickle.load(fh)
        out = cls(tuple(data["ngram_range"]))
        out.ids, out._vectorizer = data["ids"], data["vectorizer"]
        out.fit_rows = int(data.get("fit_rows", len(out.ids)))  # (builds before it was kept)
        if "matrix" in data:  # (builds before session 7 pickled the matrix)
            out._matrix = data["matrix"]
        elif data.get("shape") is not None:
            shape = tuple(data["shape"])
            rows = StoredSparse(path.parent / ROWS_PREFIX, shape)
            columns = StoredSparse(path.parent / COLUMNS_PREFIX, (shape[1], shape[0]))
            if storage == "disk":
                out._matrix, out._stored_columns = rows, columns
            else:
                out._matrix = _read_all(rows, "csr")
                out._csc = (out._matrix, _read_all(columns, "csc"))
        return out


def _read_all(stored: StoredSparse, layout: str) -> Any:
    """A stored matrix read into memory as CSR (``layout`` ``csr``) or, for a matrix stored
    column by column, as CSC (``csc``)."""
    from scipy import sparse as sp

    parts = tuple(np.load(f"{stored.prefix}.{n}.npy") for n in ("data", "indices", "indptr"))
    if layout == "csr":
        return sp.csr_matrix(parts, shape=stored.shape)
    return sp.csc_matrix(parts, shape=(stored.shape[1], stored.shape[0]))
