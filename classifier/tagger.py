"""The service-facing tagger: load the shipped artifact, predict tags, explain a prediction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from classifier import artifact
from classifier.normalize import NEG_PREFIX
from classifier.tags import TAGS, Prediction


class Tagger:
    """Tags citizen messages with the complaint tags, using per-tag thresholds."""

    def __init__(
        self,
        model: Pipeline,
        thresholds: Mapping[str, float],
        version: str = "unversioned",
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.thresholds: dict[str, float] = {t: float(thresholds[t]) for t in TAGS}
        self.version = version
        self.metadata: dict[str, Any] = dict(metadata or {})
        self._thr = np.array([self.thresholds[t] for t in TAGS])
        self._linear = _linear_parts(model)

    @classmethod
    def load(cls, path: Path | str | None = None) -> Tagger:
        """Load a model directory (default: the shipped ``artifacts/current``).

        ``path`` may also be an artifact root, in which case its ``current`` model is used.
        """
        if path is not None and not (Path(path) / artifact.MODEL_FILE).exists():
            root_current = artifact.current_dir(path)
            if (root_current / artifact.MODEL_FILE).exists():
                path = root_current
        art = artifact.load(path)
        return cls(
            art.model,
            art.metadata["thresholds"],
            version=art.metadata.get("version", "unversioned"),
            metadata=art.metadata,
        )

    # -- prediction -----------------------------------------------------------------------
    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The model's feature matrix for texts (normalisation + TF-IDF union)."""
        return self.model[:-1].transform(list(texts))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, one column per tag in ``TAGS`` order."""
        if not texts:
            return np.zeros((0, len(TAGS)))
        if self._linear is not None:
            normalizer, vectorizers, weights, coef, intercept = self._linear
            pairs = normalizer.transform(texts)
            decision = np.tile(intercept, (len(pairs), 1))
            start = 0
            for i, (vec, w) in enumerate(zip(vectorizers, weights, strict=True)):
                block = vec.transform([p[i] for p in pairs])
                stop = start + block.shape[1]
                decision += (block @ coef[start:stop]) * w
                start = stop
            return np.asarray(expit(decision))
        return np.asarray(self.model.predict_proba(list(texts)))

    def predict(self, texts: Sequence[Any]) -> list[Prediction]:
        """Predict tags for a batch; empty/None/non-string items get ``Prediction([], {})``."""
        results = [Prediction([], {}) for _ in texts]
        valid = [i for i, t in enumerate(texts) if isinstance(t, str) and t.strip()]
        if not valid:
            return results
        proba = self.predict_proba([texts[i] for i in valid])
        hits = proba >= self._thr
        for row, i in enumerate(valid):
            results[i] = Prediction(
                labels=[TAGS[k] for k in np.flatnonzero(hits[row])],
                scores={tag: round(float(proba[row, k]), 4) for k, tag in enumerate(TAGS)},
            )
        return results

    def predict_one(self, text: Any) -> Prediction:
        """Predict tags for one message."""
        return self.predict([text])[0]

    # -- explanation ----------------------------------------------------------------------
    def explain(
        self, text: str, top: int = 3, all_tags: bool = False
    ) -> dict[str, list[tuple[str, float]]]:
        """The words/n-grams that pushed each predicted tag's score up the most.

        Contribution = coefficient × tf-idf value (for a calibrated wrapper the base
        estimators' coefficients are averaged). Character n-grams are credited to the
        (normalised) word they occur in; word n-grams are shown as they are, a negated word
        as ``not <word>``. Tags: the predicted ones, or every tag with ``all_tags``.
        """
        if not isinstance(text, str) or not text.strip():
            return {}
        pred = self.predict_one(text)
        tags = list(TAGS) if all_tags else pred.labels
        if not tags:
            return {}
        normalizer = self.model.named_steps["normalize"]
        union = self.model.named_steps["features"]
        char_view = normalizer.transform([text])[0][0]
        coef = _coef_matrix(self.model)
        x = union.transform(normalizer.transform([text])).tocsr()
        names = _feature_names(union)
        n_char = len(union.transformer_list[0][1][-1].vocabulary_)
        char_words = char_view.split()
        out: dict[str, list[tuple[str, float]]] = {}
        for tag in tags:
            k = TAGS.index(tag)
            totals: dict[str, float] = defaultdict(float)
            for j, value in zip(x.indices, x.data, strict=True):
                contribution = float(coef[j, k] * value)
                if contribution == 0.0:
                    continue
                name = names[j]
                if j < n_char:
                    owners = [w for w in char_words if name.strip() in f" {w} "] or [name]
                    for w in owners:
                        totals[w] += contribution / len(owners)
                else:
                    totals[_readable_word(name)] += contribution
            best = sorted(totals.items(), key=lambda kv: -kv[1])
            out[tag] = [(w, round(c, 4)) for w, c in best[:top] if c > 0]
        return out


def _readable_word(name: str) -> str:
    parts = []
    for tok in name.split():
        if tok.startswith(NEG_PREFIX):
            tok = "not " + tok[len(NEG_PREFIX) :]
        if tok.startswith("c:") or tok.startswith("not c:"):
            tok = tok.replace("c:", "[") + "]"
        parts.append(tok)
    return " ".join(parts)


def _feature_names(union: Any) -> list[str]:
    names: list[str] = []
    for _, branch in union.transformer_list:
        vec = branch[-1]
        terms = [""] * len(vec.vocabulary_)
        for term, index in vec.vocabulary_.items():
            terms[index] = term
        names.extend(terms)
    return names


def _base_coef(estimator: Any) -> tuple[np.ndarray, float]:
    if isinstance(estimator, CalibratedClassifierCV):
        coefs = [c.estimator.coef_.ravel() for c in estimator.calibrated_classifiers_]
        icpts = [
            float(np.ravel(c.estimator.intercept_)[0]) for c in estimator.calibrated_classifiers_
        ]
        return np.mean(coefs, axis=0), float(np.mean(icpts))
    return np.asarray(estimator.coef_).ravel(), float(np.ravel(estimator.intercept_)[0])


def _coef_matrix(model: Pipeline) -> np.ndarray:
    """(n_features × n_tags) linear coefficients (calibrated: averaged base estimators)."""
    clf = model.named_steps["classifier"]
    return np.column_stack([_base_coef(e)[0] for e in clf.estimators_])


def _linear_parts(model: Any) -> tuple[Any, list[Any], list[float], np.ndarray, np.ndarray] | None:
    """Pieces for an exact fast path when the classifier is one-vs-rest logistic regression."""
    try:
        normalizer = model.named_steps["normalize"]
        union = model.named_steps["features"]
        clf = model.named_steps["classifier"]
        estimators = clf.estimators_
    except (AttributeError, KeyError):
        return None
    if len(estimators) != len(TAGS) or not all(
        isinstance(e, LogisticRegression) for e in estimators
    ):
        return None
    if getattr(clf, "label_binarizer_", None) is None or not clf.multilabel_:
        return None
    weights_map = union.transformer_weights or {}
    vectorizers, weights = [], []
    for i, (name, branch) in enumerate(union.transformer_list):
        selector, vec = branch[0], branch[-1]
        if len(branch) != 2 or getattr(selector, "index", None) != i:
            return None
        vectorizers.append(vec)
        weights.append(float(weights_map.get(name, 1.0)))
    coef = np.column_stack([np.asarray(e.coef_, dtype=np.float64).ravel() for e in estimators])
    intercept = np.array([float(np.ravel(e.intercept_)[0]) for e in estimators])
    return normalizer, vectorizers, weights, coef, intercept
