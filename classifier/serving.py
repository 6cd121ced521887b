"""The tagger as the service runs it: thresholds over a :class:`LinearModel`, no numpy."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from classifier.layout import LINEAR_FILE, METADATA_FILE, model_dir
from classifier.linear import LinearModel
from classifier.scoring import CardTagger, ModelCard


class ServingTagger(CardTagger):
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

    def probabilities(self, texts: Sequence[str]) -> Sequence[Sequence[float]]:
        """Per-tag probabilities, one row per text and one column per tag of :attr:`labels`."""
        return self.linear.proba(texts) if texts else []

    def _explanation_model(self) -> LinearModel | None:
        return self.linear
