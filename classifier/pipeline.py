"""The scikit-learn pipeline: normalisation, TF-IDF features, one-vs-rest linear classifier."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from classifier import normalize
from classifier.counting import NgramCounter
from classifier.gating import GATE_WEIGHT, gate_probabilities
from classifier.quotes import message_views

DEFAULT_SEED = 13

QUOTED_WEIGHT = 0.5
"""The weight of the quoted-speech branch beside the two whole-message branches (each 1)."""

DEFAULT_PARAMS: dict[str, Any] = {
    "normalize__mode": "message",
    "normalize__char_neg": "upper",
    "normalize__quotes": True,
    "features__char__counts__ngram_range": (2, 5),
    "features__char__counts__min_df": 2,
    "features__char__counts__max_features": 60000,
    "features__word__counts__ngram_range": (1, 2),
    "features__word__counts__min_df": 1,
    "features__word__counts__max_features": 40000,
    "features__quoted__counts__ngram_range": (2, 5),
    "features__quoted__counts__min_df": 2,
    "features__quoted__counts__max_features": 30000,
    "classifier__estimator__C": 30.0,
    "classifier__gate_weight": GATE_WEIGHT,
}
"""Parameters used when no search is run (also the centre of the search grid)."""


class TextNormalizer(TransformerMixin, BaseEstimator):
    """Turn raw texts into ``(char_view, word_view)`` pairs (see ``classifier.normalize``);
    with ``quotes``, ``(char_view, word_view, quoted_view)`` triples (``classifier.quotes``)."""

    def __init__(
        self,
        mode: str = "message",
        char_neg: str = "upper",
        concepts: bool = True,
        stem: int = 0,
        quotes: bool = False,
    ) -> None:
        self.mode = mode
        self.char_neg = char_neg
        self.concepts = concepts
        self.stem = stem
        self.quotes = quotes

    def fit(self, X: Iterable[Any], y: Any = None) -> TextNormalizer:
        """Stateless: nothing to learn."""
        return self

    def transform(self, X: Iterable[Any]) -> list[tuple[str, ...]]:
        """Normalise each text; anything that is not a string becomes empty views."""
        # an estimator's plain fields; the normaliser checks the modes it is given
        settings: tuple[Any, ...] = (
            self.mode,
            self.char_neg,
            self.concepts,
            self.stem,
            self.quotes,
        )
        normalizer = normalize.shared()
        empty = ("",) * (3 if self.quotes else 2)
        return [message_views(normalizer, x, *settings) if isinstance(x, str) else empty for x in X]


class ViewSelector(TransformerMixin, BaseEstimator):
    """Pick one view (0 = folded chars, 1 = marked words, 2 = quoted speech) out of
    ``TextNormalizer`` output."""

    def __init__(self, index: int = 0) -> None:
        self.index = index

    def fit(self, X: Iterable[Any], y: Any = None) -> ViewSelector:
        """Stateless: nothing to learn."""
        return self

    def transform(self, X: Iterable[tuple[str, ...]]) -> list[str]:
        """Return the selected view of every tuple of views."""
        i = self.index
        return [pair[i] for pair in X]


class FastTfidfVectorizer:
    """A TF-IDF branch as model files saved before :class:`NgramCounter` hold it (read only).

    Not an estimator: skops fills it with the stored state (the parameters, the vocabulary as
    ``vocabulary_terms_`` and the fitted ``TfidfTransformer`` as ``_tfidf``), and
    ``classifier.legacy`` turns it into the counter and the transformer that replace it.
    """


_STACKED = "_stacked_coefficients"
"""Where :class:`GatedOneVsRest` keeps its columns' coefficients side by side (never saved)."""


class GatedOneVsRest(OneVsRestClassifier):
    """One-vs-rest over the tags plus a last column, the complaint gate (any tag at all).

    ``fit`` takes the tags' label matrix and adds the gate's column itself;
    ``predict_proba`` returns one column per tag, each tempered by the gate as
    :mod:`classifier.gating` describes. ``estimators_`` holds the tags' models, then the gate's.
    """

    def __init__(
        self,
        estimator: Any,
        *,
        gate_weight: float = GATE_WEIGHT,
        n_jobs: Any = None,
        verbose: int = 0,
    ) -> None:
        super().__init__(estimator, n_jobs=n_jobs, verbose=verbose)
        self.gate_weight = gate_weight

    def fit(self, X: Any, y: Any, **fit_params: Any) -> GatedOneVsRest:
        """Fit the tags' models and the gate's (on "the message has any tag")."""
        super().fit(X, with_gate_column(np.asarray(y)), **fit_params)
        # The gate is not a class the model outputs (cross-validation counts ``classes_``).
        self.classes_ = np.asarray(self.label_binarizer_.classes_)[:-1]
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Each tag's probability tempered by the gate's: ``p ** (1 - w) * gate ** w``."""
        return np.asarray(gate_probabilities(self._column_probabilities(X), self.gate_weight))

    def _column_probabilities(self, X: Any) -> np.ndarray:
        """Each column's own probability (the tags', then the gate's).

        When every column is a logistic regression, as trained here, all of them come from one
        sparse product with their coefficients side by side: the same arithmetic, and the same
        numbers, as asking each model in turn, without scikit-learn's input checks for each
        (1.9 ms of a single message's 4.7). Anything else is asked model by model.
        """
        check_is_fitted(self)
        estimators = tuple(self.estimators_)
        built_for, stacked = self.__dict__.get(_STACKED, ((), None))
        # Built for these very models: a refit, or one model swapped (as training's per-tag C
        # does), makes new ones.
        # (estimators compare by identity: scikit-learn defines no equality for them)
        if built_for != estimators:
            if not all(
                isinstance(e, LogisticRegression) and e.coef_.shape[0] == 1 for e in estimators
            ):
                return np.asarray(super().predict_proba(X))
            stacked = (
                np.column_stack([e.coef_.ravel() for e in estimators]),
                np.array([e.intercept_[0] for e in estimators]),
            )
            self.__dict__[_STACKED] = (estimators, stacked)
        coef, intercept = stacked
        return np.asarray(expit(X @ coef + intercept))

    def __getstate__(self) -> dict[str, Any]:
        """The estimator's state without the stacked coefficients (rebuilt on first use)."""
        state = dict(super().__getstate__())
        state.pop(_STACKED, None)
        return state

    def predict(self, X: Any) -> np.ndarray:
        """Tags whose gated probability reaches 0.5 (the tagger uses its own thresholds)."""
        return (self.predict_proba(X) >= 0.5).astype(np.int64)


def with_gate_column(y: np.ndarray) -> np.ndarray:
    """The label matrix with the gate's column ("any tag") appended."""
    return np.column_stack([y, y.any(axis=1)]).astype(np.int64)


def _classifier(kind: str, seed: int, gate: bool) -> Any:
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
    return GatedOneVsRest(base) if gate else OneVsRestClassifier(base)


def build_pipeline(
    params: Mapping[str, Any] | None = None,
    seed: int = DEFAULT_SEED,
    kind: str = "lr",
    memory: Any = None,
    gate: bool = True,
) -> Pipeline:
    """Build the (unfitted) tagger pipeline with named steps.

    ``normalize`` → ``features`` (FeatureUnion of ``char``: char_wb n-gram counts over the
    folded view, ``word``: word 1–2-gram counts over the negation-marked view and, with
    ``normalize__quotes``, ``quoted``: char_wb n-gram counts over the quoted spans, weighted
    ``QUOTED_WEIGHT``; each followed by scikit-learn's ``TfidfTransformer``) → ``classifier``
    (one-vs-rest logistic regression, or calibrated linear SVM when ``kind="svm"``, with the
    complaint gate of :mod:`classifier.gating`; ``gate=False``: plain one-vs-rest over whatever
    columns it is fitted on, as the search uses it).
    ``memory`` caches fitted feature steps (used during the search only).
    """
    merged = dict(DEFAULT_PARAMS)
    if kind == "svm":
        merged.pop("classifier__estimator__C")
        merged["classifier__estimator__estimator__C"] = 0.5
    merged.update(params or {})
    if not gate:
        merged.pop("classifier__gate_weight", None)
    branches = [("char", _branch(0, "char_wb")), ("word", _branch(1, "word"))]
    weights = None
    if merged.get("normalize__quotes"):
        branches.append(("quoted", _branch(2, "char_wb")))
        weights = {"char": 1.0, "word": 1.0, "quoted": QUOTED_WEIGHT}
    else:
        merged = {k: v for k, v in merged.items() if not k.startswith("features__quoted__")}
    pipe = Pipeline(
        [
            ("normalize", TextNormalizer()),
            ("features", FeatureUnion(branches, transformer_weights=weights)),
            ("classifier", _classifier(kind, seed, gate)),
        ],
        memory=memory,
    )
    pipe.set_params(**merged)
    return pipe


def _branch(view: int, analyzer: str) -> Pipeline:
    """One TF-IDF branch: a view of ``TextNormalizer``'s output, its n-gram counts, tf-idf."""
    return Pipeline(
        [
            ("select", ViewSelector(view)),
            ("counts", NgramCounter(analyzer=analyzer)),
            ("tfidf", TfidfTransformer(sublinear_tf=True)),
        ]
    )
