"""The full tagger: the trained scikit-learn pipeline behind the ``TaggerModel`` port.

Training, evaluation, retraining and bulk tagging (``pikir classifier predict``) use it: a
batch goes through the pipeline's sparse, vectorised arithmetic, several times faster than the
pure-Python scorer. The service tags one message at a time and loads
:class:`~classifier.serving.ServingTagger` from the model's ``linear.zip`` instead, which gives
the same numbers without importing scikit-learn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.pipeline import Pipeline

from classifier import artifact
from classifier.export import coef_matrix, linear_model_of
from classifier.layout import model_dir
from classifier.linear import LinearModel
from classifier.scoring import CardTagger, ModelCard


class Tagger(CardTagger):
    """Tags citizen messages with the complaint tags through the pipeline (a ``TaggerModel``)."""

    def __init__(
        self,
        model: Pipeline,
        thresholds: Mapping[str, float],
        version: str = "unversioned",
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self.model = model
        # The exported linear form of a logistic model (None for a calibrated SVM): it holds
        # the pipeline's own coefficients, so it explains the pipeline's predictions.
        self.linear = linear_model_of(model)
        n_outputs = self.linear.n_tags if self.linear is not None else None
        self._card = ModelCard.of(thresholds, version, metadata, n_outputs)
        self._explain_with: LinearModel | None = self.linear

    @classmethod
    def load(cls, path: Path | str | None = None) -> Tagger:
        """Load a model directory (default: the shipped ``artifacts/current``).

        ``path`` may also be an artifact root, in which case its ``current`` model is used.
        """
        art = artifact.load(model_dir(path))
        return cls(
            art.model,
            art.metadata["thresholds"],
            version=art.metadata.get("version", "unversioned"),
            metadata=art.metadata,
        )

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The model's feature matrix for texts (normalisation + TF-IDF union)."""
        return self.model[:-1].transform(list(texts))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, one column per tag of :attr:`labels`, from the pipeline."""
        if not texts:
            return np.zeros((0, len(self.labels)))
        return np.asarray(self.model.predict_proba(list(texts)))

    def probabilities(self, texts: Sequence[str]) -> Sequence[Sequence[float]]:
        """Per-tag probabilities (the pipeline's own for a calibrated SVM)."""
        return self.predict_proba(texts).tolist()

    def _explanation_model(self) -> LinearModel | None:
        return self._explainer()

    def _explainer(self) -> LinearModel | None:
        """The linear model whose coefficients explain a prediction (an SVM's averaged ones)."""
        if self._explain_with is None:
            self._explain_with = linear_model_of(self.model, coef=coef_matrix(self.model))
        return self._explain_with
