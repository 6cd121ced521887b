"""The n-gram counting step of the pipeline: a vocabulary fitted like scikit-learn's
``CountVectorizer`` and a sparse count matrix, with the fast analyzers of ``classifier.ngrams``.

The TF-IDF weighting after it is scikit-learn's own ``TfidfTransformer``; this class only
counts. It is our estimator, not a subclass of a scikit-learn vectorizer.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from itertools import repeat
from numbers import Integral
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from classifier.ngrams import char_wb_columns, char_wb_ngrams, word_ngrams

ANALYZERS = {"char_wb": char_wb_ngrams, "word": word_ngrams}

# Lookups rebuilt from ``terms_`` on first use and never persisted: skops stores a dict entry
# by entry, and 60,000 char n-grams as a dict take about 2 s to load against 0.03 s as one
# string array.
_LOOKUP = "_lookup"
_WORD_CACHE = "_word_cache"


class NgramCounter(TransformerMixin, BaseEstimator):
    """Count n-grams of whitespace-separated text into a sparse (documents × terms) matrix.

    ``analyzer`` is ``"char_wb"`` (character n-grams inside space-padded words) or ``"word"``
    (whitespace-token n-grams). The vocabulary keeps the terms found in at least ``min_df``
    documents (a float: that share of them), then, with ``max_features``, the most frequent of
    those, and is ordered alphabetically: the same terms and columns as scikit-learn's
    ``CountVectorizer(analyzer=..., token_pattern=r"\\S+", lowercase=False)``. The fitted
    ``terms_`` is an index-ordered string array. Counts are of type ``dtype`` (single
    precision by default, so the TF-IDF step after it computes in single precision).
    """

    def __init__(
        self,
        analyzer: str = "char_wb",
        ngram_range: tuple[int, int] = (1, 1),
        min_df: float = 1,
        max_features: int | None = None,
        dtype: Any = np.float32,
    ) -> None:
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.dtype = dtype

    def fit(self, X: Iterable[str], y: Any = None) -> NgramCounter:
        """Learn the vocabulary."""
        self.fit_transform(X)
        return self

    def fit_transform(self, X: Iterable[str], y: Any = None) -> sp.csr_matrix:
        """Learn the vocabulary and return the count matrix of ``X`` over it."""
        analyze = self._analyzer()
        lo, hi = self.ngram_range
        ids: dict[str, int] = {}
        columns = array("i")
        ptr = [0]
        for doc in X:
            for gram in analyze(doc, lo, hi):
                columns.append(ids.setdefault(gram, len(ids)))
            ptr.append(len(columns))
        if not ids:
            raise ValueError("empty vocabulary: the documents hold no n-grams")
        counts = _count_matrix(columns, ptr, len(ids), self.dtype)
        # Columns in alphabetical order of their terms, as scikit-learn orders them.
        found = sorted(ids)
        order = np.array([ids[term] for term in found], dtype=np.int64)
        dfs = np.bincount(counts.indices, minlength=len(ids))[order]
        tfs = np.asarray(counts.sum(axis=0)).ravel()[order]
        keep = self._kept_columns(dfs, tfs, counts.shape[0])
        self.terms_ = np.array([found[i] for i in keep], dtype=str)
        self.__dict__.pop(_LOOKUP, None)
        self.__dict__.pop(_WORD_CACHE, None)
        return counts[:, order[keep]].tocsr()

    def _kept_columns(self, dfs: np.ndarray, tfs: np.ndarray, n_docs: int) -> np.ndarray:
        """Columns kept by ``min_df`` and ``max_features``, given each column's document and
        total frequency: CountVectorizer's rule, with its ties at the ``max_features`` cut
        broken the same way on every machine (see below)."""
        min_count = self.min_df if isinstance(self.min_df, Integral) else self.min_df * n_docs
        mask = dfs >= min_count
        if self.max_features is not None and mask.sum() > self.max_features:
            # The most frequent terms. scikit-learn leaves equally frequent terms at the cut
            # to an unstable sort, which each CPU's vectorised sort orders its own way: from
            # the same data and code, two machines kept vocabularies 1,451 char n-grams apart.
            # Here a tie goes to the term in more messages (the more general one), then to
            # the first in the columns' alphabetical order.
            candidates = np.where(mask)[0]
            ranked = np.lexsort((candidates, -dfs[candidates], -tfs[candidates]))
            mask = np.zeros(len(dfs), dtype=bool)
            mask[candidates[ranked[: self.max_features]]] = True
        kept = np.where(mask)[0]
        if not len(kept):
            raise ValueError("no term is left after min_df / max_features")
        return kept

    def transform(self, X: Iterable[str]) -> sp.csr_matrix:
        """The count matrix of ``X`` over the fitted vocabulary (unknown n-grams are dropped)."""
        lookup = self._columns_by_term()
        lo, hi = self.ngram_range
        if self.analyzer == "char_wb":
            cache: dict[str, bytes] = self.__dict__.setdefault(_WORD_CACHE, {})
            get = lookup.get
            rows = [char_wb_columns(doc, lo, hi, get, cache) for doc in X]
            columns = array("i", b"".join(rows))
            row_ends = np.cumsum([0, *map(len, rows)]) // columns.itemsize
            return _count_matrix(columns, row_ends, len(lookup), self.dtype)
        # Unknown n-grams come out as -1 (``get(gram, -1)``, all in C) and are dropped by
        # ``_count_matrix``.
        analyze, get = self._analyzer(), lookup.get
        columns = array("i")
        ptr = [0]
        for doc in X:
            columns.extend(map(get, analyze(doc, lo, hi), repeat(-1)))
            ptr.append(len(columns))
        return _count_matrix(columns, ptr, len(lookup), self.dtype)

    def __getstate__(self) -> dict[str, Any]:
        """The estimator's state without the lookups rebuilt from ``terms_``."""
        state = dict(super().__getstate__())
        state.pop(_LOOKUP, None)
        state.pop(_WORD_CACHE, None)
        return state

    def _analyzer(self) -> Any:
        if self.analyzer not in ANALYZERS:
            raise ValueError(f"analyzer must be one of {sorted(ANALYZERS)}, not {self.analyzer!r}")
        return ANALYZERS[self.analyzer]

    def _columns_by_term(self) -> dict[str, int]:
        """Term → column, built from ``terms_`` on first use."""
        lookup: dict[str, int] | None = self.__dict__.get(_LOOKUP)
        if lookup is None:
            terms = self.terms_.tolist()
            lookup = dict(zip(terms, range(len(terms)), strict=True))
            self.__dict__[_LOOKUP] = lookup
        return lookup


def _count_matrix(
    columns: array[int], ptr: Sequence[int] | np.ndarray, width: int, dtype: Any
) -> sp.csr_matrix:
    """A CSR matrix with a 1 per listed column of each row, duplicates summed into counts;
    a negative column (an unknown n-gram) is left out."""
    col = np.frombuffer(columns, dtype=np.int32) if len(columns) else np.zeros(0, np.int32)
    row_ends = np.asarray(ptr, dtype=np.int64)
    known = col >= 0
    if not known.all():
        row_ends = np.concatenate(([0], np.cumsum(known)))[row_ends]
        col = col[known]
    matrix = sp.csr_matrix(
        (np.ones(len(col), dtype=dtype), col, row_ends),
        shape=(len(ptr) - 1, width),
    )
    if len(col) > width:
        # Over to columns and back: two counting sorts leave each row's columns in order in
        # O(nnz + width), where sorting each row in place costs O(nnz log k): twice as fast
        # for a batch, but not for a message or two, whose nnz is far below the width.
        matrix = matrix.tocsc().tocsr()
    matrix.sum_duplicates()
    return matrix
