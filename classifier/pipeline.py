"""The scikit-learn pipeline: normalisation, TF-IDF features, one-vs-rest linear classifier."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import normalize as normalize_rows
from sklearn.svm import LinearSVC

from classifier import normalize
from classifier.ngrams import char_wb_ngrams, word_ngrams

DEFAULT_SEED = 13

DEFAULT_PARAMS: dict[str, Any] = {
    "normalize__mode": "message",
    "normalize__char_neg": "upper",
    "features__char__tfidf__ngram_range": (2, 5),
    "features__char__tfidf__min_df": 2,
    "features__char__tfidf__max_features": 60000,
    "features__word__tfidf__ngram_range": (1, 2),
    "features__word__tfidf__min_df": 1,
    "features__word__tfidf__max_features": 40000,
    "classifier__estimator__C": 30.0,
}
"""Parameters used when no search is run (also the centre of the search grid)."""


class TextNormalizer(TransformerMixin, BaseEstimator):
    """Turn raw texts into ``(char_view, word_view)`` pairs (see ``classifier.normalize``)."""

    def __init__(
        self, mode: str = "message", char_neg: str = "upper", concepts: bool = True, stem: int = 0
    ) -> None:
        self.mode = mode
        self.char_neg = char_neg
        self.concepts = concepts
        self.stem = stem

    def fit(self, X: Iterable[Any], y: Any = None) -> TextNormalizer:
        """Stateless: nothing to learn."""
        return self

    def transform(self, X: Iterable[Any]) -> list[tuple[str, str]]:
        """Normalise each text; anything that is not a string becomes two empty views."""
        mode, char_neg, concepts, stem = self.mode, self.char_neg, self.concepts, self.stem
        views = normalize.shared().views
        return [
            views(x, mode, char_neg, concepts, stem)  # type: ignore[arg-type]
            if isinstance(x, str)
            else ("", "")
            for x in X
        ]


class ViewSelector(TransformerMixin, BaseEstimator):
    """Pick one view (0 = folded chars, 1 = marked words) out of ``TextNormalizer`` output."""

    def __init__(self, index: int = 0) -> None:
        self.index = index

    def fit(self, X: Iterable[Any], y: Any = None) -> ViewSelector:
        """Stateless: nothing to learn."""
        return self

    def transform(self, X: Iterable[tuple[str, str]]) -> list[str]:
        """Return the selected view of every pair."""
        i = self.index
        return [pair[i] for pair in X]


_CACHE_LIMIT = 200_000
_WS_TOKEN = r"\S+"  # noqa: S105 - a regex, not a password


class FastTfidfVectorizer(TfidfVectorizer):
    """``TfidfVectorizer`` with a faster analyzer/transform and a compact persisted vocabulary.

    Same numbers as the parent class. The vocabulary is persisted as one string array (not a
    dict of thousands of entries) so that the skops file stays small and loads fast.
    """

    def _fast(self) -> bool:
        return (
            self.preprocessor is None
            and self.tokenizer is None
            and not self.lowercase
            and self.strip_accents is None
            and self.stop_words is None
            and (
                self.analyzer == "char_wb"
                or (self.analyzer == "word" and self.token_pattern == _WS_TOKEN)
            )
        )

    def build_analyzer(self) -> Callable[[str], list[str]]:
        """Fast analyzers for ``char_wb`` and ``\\S+``-word configurations, else the parent's."""
        if not self._fast():
            return super().build_analyzer()
        lo, hi = self.ngram_range
        fn = char_wb_ngrams if self.analyzer == "char_wb" else word_ngrams

        def analyze(doc: str) -> list[str]:
            return fn(self.decode(doc), lo, hi)

        return analyze

    def fit(self, raw_documents: Iterable[str], y: Any = None) -> FastTfidfVectorizer:
        """Learn vocabulary and idf (drops the per-word n-gram cache)."""
        self.__dict__.pop("_word_cache", None)
        super().fit(raw_documents, y)
        return self

    def fit_transform(self, raw_documents: Iterable[str], y: Any = None) -> sp.csr_matrix:
        """Learn vocabulary and idf, return the document-term matrix."""
        self.__dict__.pop("_word_cache", None)
        return super().fit_transform(raw_documents, y)

    def transform(self, raw_documents: Iterable[str]) -> sp.csr_matrix:
        """Tf-idf-weighted document-term matrix (fast path; same result as the parent)."""
        if (
            isinstance(raw_documents, str)
            or not hasattr(self, "vocabulary_")
            or self.binary
            or not self._fast()
        ):
            return super().transform(raw_documents)
        get = self.vocabulary_.get
        lo, hi = self.ngram_range
        # Collect in-vocabulary n-gram ids per document and let scipy sum the duplicates.
        # char_wb n-grams never cross words, so each word's ids are cached.
        ids = array("i")
        ptr = [0]
        if self.analyzer == "char_wb":
            cache: dict[str, array[int]] = self.__dict__.setdefault("_word_cache", {})
            for doc in raw_documents:
                for word in self.decode(doc).split():
                    hit = cache.get(word)
                    if hit is None:
                        grams = char_wb_ngrams(word, lo, hi)
                        hit = array("i", [j for j in map(get, grams) if j is not None])
                        if len(cache) >= _CACHE_LIMIT:
                            cache.clear()
                        cache[word] = hit
                    ids.extend(hit)
                ptr.append(len(ids))
        else:
            analyze = self.build_analyzer()
            for doc in raw_documents:
                ids.extend([j for j in map(get, analyze(doc)) if j is not None])
                ptr.append(len(ids))
        col = np.frombuffer(ids, dtype=np.int32) if len(ids) else np.zeros(0, np.int32)
        counts_matrix = sp.csr_matrix(
            (np.ones(len(col), dtype=self.dtype), col, np.asarray(ptr, dtype=np.int64)),
            shape=(len(ptr) - 1, len(self.vocabulary_)),
        )
        counts_matrix.sum_duplicates()
        return self._weigh(counts_matrix)

    def _weigh(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Apply sublinear tf, idf and l2 norm like ``TfidfTransformer.transform``, minus its
        per-call validation (which dominates single-message latency). Reads only the
        vectorizer's public parameters and its fitted ``idf_``."""
        data = counts.data
        if self.sublinear_tf:
            np.log(data, out=data)
            data += 1
        if self.use_idf:
            data *= self.idf_[counts.indices]
        if self.norm == "l2":
            if not data.size:
                return counts
            rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
            norms = np.sqrt(np.bincount(rows, weights=data.astype(np.float64) ** 2))
            norms[norms == 0.0] = 1.0
            data /= norms[rows].astype(data.dtype)
        elif self.norm is not None:
            counts = normalize_rows(counts, norm=self.norm, copy=False)
        return counts

    # Kept on purpose: skops stores a dict entry by entry, so the fitted vocabulary as a dict
    # (60,000 char n-grams) takes about 2 s to load against 0.03 s as one string array.
    def __getstate__(self) -> dict[str, Any]:
        """Persist the vocabulary as an index-ordered string array."""
        state = dict(super().__getstate__())
        state.pop("_word_cache", None)
        vocab = state.pop("vocabulary_", None)
        if vocab is not None:
            terms = [""] * len(vocab)
            for term, index in vocab.items():
                terms[index] = term
            state["vocabulary_terms_"] = np.array(terms, dtype=str)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Rebuild the vocabulary dict from the persisted string array."""
        state = dict(state)
        terms = state.pop("vocabulary_terms_", None)
        if terms is not None:
            state["vocabulary_"] = {str(t): i for i, t in enumerate(terms.tolist())}
        super().__setstate__(state)


def _classifier(kind: str, seed: int) -> Any:
    if kind == "svm":
        base: Any = CalibratedClassifierCV(
            LinearSVC(C=0.5, class_weight="balanced", random_state=seed, max_iter=5000),
            method="sigmoid",
            cv=3,
        )
    else:
        base = LogisticRegression(
            C=10.0,
            class_weight="balanced",
            solver="liblinear",
            dual=True,
            random_state=seed,
            max_iter=2000,
        )
    return OneVsRestClassifier(base)


def build_pipeline(
    params: Mapping[str, Any] | None = None,
    seed: int = DEFAULT_SEED,
    kind: str = "lr",
    memory: Any = None,
) -> Pipeline:
    """Build the (unfitted) tagger pipeline with named steps.

    ``normalize`` → ``features`` (FeatureUnion of ``char``: char_wb TF-IDF over the folded view,
    ``word``: word 1–2-gram TF-IDF over the negation-marked view) → ``classifier``
    (one-vs-rest logistic regression, or calibrated linear SVM when ``kind="svm"``).
    ``memory`` caches fitted feature steps (used during the search only).
    """
    char = Pipeline(
        [
            ("select", ViewSelector(0)),
            (
                "tfidf",
                FastTfidfVectorizer(
                    analyzer="char_wb", lowercase=False, sublinear_tf=True, dtype=np.float32
                ),
            ),
        ]
    )
    word = Pipeline(
        [
            ("select", ViewSelector(1)),
            (
                "tfidf",
                FastTfidfVectorizer(
                    analyzer="word",
                    token_pattern=_WS_TOKEN,
                    lowercase=False,
                    sublinear_tf=True,
                    dtype=np.float32,
                ),
            ),
        ]
    )
    pipe = Pipeline(
        [
            ("normalize", TextNormalizer()),
            ("features", FeatureUnion([("char", char), ("word", word)])),
            ("classifier", _classifier(kind, seed)),
        ],
        memory=memory,
    )
    merged = dict(DEFAULT_PARAMS)
    if kind == "svm":
        merged.pop("classifier__estimator__C")
        merged["classifier__estimator__estimator__C"] = 0.5
    merged.update(params or {})
    pipe.set_params(**merged)
    return pipe
