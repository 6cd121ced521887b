"""The port every tagger implements: the light serving tagger and the full pipeline tagger."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from classifier.tags import Prediction


class TaggerModel(Protocol):
    """A trained tagger: per-tag probabilities, thresholded predictions and explanations.

    :class:`classifier.serving.ServingTagger` (the standard library over ``linear.zip``) and
    :class:`classifier.tagger.Tagger` (the scikit-learn pipeline) give the same numbers; the
    service holds whichever the model directory allows through this port.
    """

    @property
    def version(self) -> str:
        """The model's version (``tagger-YYYYMMDD-…``)."""
        ...

    @property
    def labels(self) -> tuple[str, ...]:
        """The tags the model outputs, in its column order."""
        ...

    @property
    def thresholds(self) -> Mapping[str, float]:
        """Each tag's decision threshold on its probability."""
        ...

    @property
    def metadata(self) -> Mapping[str, Any]:
        """The model's ``metadata.json``."""
        ...

    def probabilities(self, texts: Sequence[str]) -> Sequence[Sequence[float]]:
        """Per-tag probabilities, one row per text and one column per tag of ``labels``."""
        ...

    def predict(self, texts: Sequence[Any]) -> list[Prediction]:
        """Thresholded predictions for a batch; bad items get an empty prediction."""
        ...

    def predict_one(self, text: Any) -> Prediction:
        """The prediction for one message."""
        ...

    def explain(
        self, text: str, top: int = 3, all_tags: bool = False
    ) -> dict[str, list[tuple[str, float]]]:
        """The words that pushed each predicted (or every) tag's score up the most."""
        ...
