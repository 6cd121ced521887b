"""A fitted scikit-learn pipeline's numbers as a :class:`LinearModel` (for ``linear.zip``)."""

from __future__ import annotations

from array import array
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from classifier.counting import NgramCounter
from classifier.linear import Branch, LinearModel
from classifier.tags import TAGS


def linear_model_of(model: Any, coef: np.ndarray | None = None) -> LinearModel | None:
    """The pipeline's numbers as a :class:`LinearModel`, or None if it is not of that shape.

    Without ``coef`` the classifier must be one-vs-rest logistic regression (whose
    probabilities the plain numbers reproduce); with it, any linear classifier will do for
    explaining.
    """
    try:
        normalizer = model.named_steps["normalize"]
        union = model.named_steps["features"]
        clf = model.named_steps["classifier"]
        estimators = clf.estimators_
    except (AttributeError, KeyError):
        return None
    # A gated classifier (``classifier.pipeline.GatedOneVsRest``) has the gate's model last.
    gate_weight = getattr(clf, "gate_weight", None)
    if len(estimators) != len(TAGS) + (gate_weight is not None):
        return None
    if coef is None:
        if not all(isinstance(e, LogisticRegression) for e in estimators):
            return None
        if getattr(clf, "label_binarizer_", None) is None or not clf.multilabel_:
            return None
        coef = np.column_stack([np.asarray(e.coef_, dtype=np.float64).ravel() for e in estimators])
        intercept = np.array([float(np.ravel(e.intercept_)[0]) for e in estimators])
    else:
        intercept = np.zeros(coef.shape[1])
    weights = union.transformer_weights or {}
    branches = []
    for i, (name, branch) in enumerate(union.transformer_list):
        if len(branch) != 3 or getattr(branch[0], "index", None) != i:
            return None
        counter, tfidf = branch[1], branch[2]
        if not isinstance(counter, NgramCounter) or not isinstance(tfidf, TfidfTransformer):
            return None
        if tfidf.norm != "l2" or not tfidf.use_idf:
            return None
        lo, hi = counter.ngram_range
        branches.append(
            Branch(
                analyzer=counter.analyzer,
                ngram_range=(int(lo), int(hi)),
                terms=counter.terms_.tolist(),
                idf=array("d", np.asarray(tfidf.idf_, dtype=np.float64).tolist()),
                sublinear_tf=bool(tfidf.sublinear_tf),
                weight=float(weights.get(name, 1.0)),
            )
        )
    keys = ("mode", "char_neg", "concepts", "stem", "quotes")
    settings = {k: getattr(normalizer, k) for k in keys}
    return LinearModel(
        settings,
        branches,
        np.ravel(coef).tolist(),
        intercept.tolist(),
        gate_weight=None if gate_weight is None else float(gate_weight),
    )


def _base_coef(estimator: Any) -> tuple[np.ndarray, float]:
    if isinstance(estimator, CalibratedClassifierCV):
        coefs = [c.estimator.coef_.ravel() for c in estimator.calibrated_classifiers_]
        icpts = [
            float(np.ravel(c.estimator.intercept_)[0]) for c in estimator.calibrated_classifiers_
        ]
        return np.mean(coefs, axis=0), float(np.mean(icpts))
    return np.asarray(estimator.coef_).ravel(), float(np.ravel(estimator.intercept_)[0])


def coef_matrix(model: Pipeline) -> np.ndarray:
    """(n_features × columns) linear coefficients (calibrated: averaged base estimators); the
    columns are the tags, then a gated classifier's gate."""
    clf = model.named_steps["classifier"]
    return np.column_stack([_base_coef(e)[0] for e in clf.estimators_])
