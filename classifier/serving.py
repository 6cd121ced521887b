"""The tagger as the service runs it: thresholds over a :class:`LinearModel`, no numpy."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from classifier import scoring
from classifier.layout import LINEAR_FILE, METADATA_FILE, model_dir
from classifier.linear import LinearModel
from classifier.scoring import ModelCard
from classifier.tags import Prediction


class ServingTagger:
    """Tags citizen messages with the complaint tags from ``linear.zip`` (a ``TaggerModel``)."""

    def __init__(
        self,
        linear: LinearModel,
        thresholds: Mapping[str, float],
        version: str = "unversioned",
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self.linear = linear
        self._card = ModelCard.of(thresholds, version, metadata, linear.n_tags)

    @classmethod
    def load(cls, path: Path | str | None = None) -> ServingTagger:
        """Load a model directory's ``linear.zip`` (default: the shipped ``current`` model);
        ``path`` may also be an artifact root. ``FileNotFoundError`` if it has none."""
        source = model_dir(path)
        if not (source / LINEAR_FILE).exists():
            raise FileNotFoundError(f"{source / LINEAR_FILE} missing")
        metadata = json.loads((source / METADATA_FILE).read_text(encoding="utf-8"))
        return cls(
            LinearModel.load(source),
            metadata["thresholds"],
            version=metadata.get("version", "unversioned"),
            metadata=metadata,
        )

    @property
    def version(self) -> str:
        """The model's version."""
        return self._card.version

    @property
    def labels(self) -> tuple[str, ...]:
        """The tags the model outputs, in its column order."""
        return self._card.labels

    @property
    def thresholds(self) -> dict[str, float]:
        """Each tag's decision threshold."""
        return self._card.thresholds

    @property
    def metadata(self) -> dict[str, Any]:
        """The model's ``metadata.json``."""
        return self._card.metadata

    def probabilities(self, texts: Sequence[str]) -> Sequence[Sequence[float]]:
        """Per-tag probabilities, one row per text and one column per tag of :attr:`labels`."""
        return self.linear.proba(texts) if texts else []

    def predict(self, texts: Sequence[Any]) -> list[Prediction]:
        """Predict tags for a batch; empty/None/non-string items get ``Prediction([], {})``."""
        return scoring.predict(self._card, self.probabilities, texts)

    def predict_one(self, text: Any) -> Prediction:
        """Predict tags for one message."""
        return self.predict([text])[0]

    def explain(
        self, text: str, top: int = 3, all_tags: bool = False
    ) -> dict[str, list[tuple[str, float]]]:
        """The words/n-grams that pushed each predicted (with ``all_tags`` every) tag up most."""
        if not isinstance(text, str) or not text.strip():
            return {}
        tags = self.labels if all_tags else self.predict_one(text).labels
        return scoring.explain(self._card, self.linear, tags, text, top)
