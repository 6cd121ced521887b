"""The tagger as the service runs it: thresholds over a :class:`LinearModel`, no numpy."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from classifier.layout import LINEAR_FILE, METADATA_FILE, model_dir
from classifier.linear import LinearModel
from classifier.tags import TAGS, Prediction


class ServingTagger:
    """Tags citizen messages with the complaint tags, using per-tag thresholds."""

    def __init__(
        self,
        linear: LinearModel | None,
        thresholds: Mapping[str, float],
        version: str = "unversioned",
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        missing = [t for t in TAGS if t not in thresholds]
        if missing:
            # A model trained before a tag was added cannot serve the present tag set.
            raise ValueError(f"model {version} has no threshold for {', '.join(missing)}")
        self.thresholds: dict[str, float] = {t: float(thresholds[t]) for t in TAGS}
        self.version = version
        self.metadata: dict[str, Any] = dict(metadata or {})
        self._linear = linear

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
        """Per-tag probabilities, one row per text and one column per tag in ``TAGS`` order."""
        if not texts:
            return []
        if self._linear is None:
            raise RuntimeError("this tagger has no linear model")
        return self._linear.proba(texts)

    def predict(self, texts: Sequence[Any]) -> list[Prediction]:
        """Predict tags for a batch; empty/None/non-string items get ``Prediction([], {})``."""
        results = [Prediction([], {}) for _ in texts]
        valid = [i for i, t in enumerate(texts) if isinstance(t, str) and t.strip()]
        if not valid:
            return results
        proba = self.probabilities([texts[i] for i in valid])
        for row, i in zip(proba, valid, strict=True):
            results[i] = Prediction(
                labels=[tag for tag, p in zip(TAGS, row, strict=True) if p >= self.thresholds[tag]],
                scores={tag: round(float(p), 4) for tag, p in zip(TAGS, row, strict=True)},
            )
        return results

    def predict_one(self, text: Any) -> Prediction:
        """Predict tags for one message."""
        return self.predict([text])[0]

    def explain(
        self, text: str, top: int = 3, all_tags: bool = False
    ) -> dict[str, list[tuple[str, float]]]:
        """The words/n-grams that pushed each predicted tag's score up the most.

        Tags: the predicted ones, or every tag with ``all_tags``. See
        :meth:`LinearModel.explain` for how words are credited.
        """
        if not isinstance(text, str) or not text.strip():
            return {}
        tags = list(TAGS) if all_tags else self.predict_one(text).labels
        explainer = self._explainer()
        if not tags or explainer is None:
            return {}
        why = explainer.explain(text, [TAGS.index(tag) for tag in tags], top)
        return {TAGS[k]: words for k, words in why.items()}

    def _explainer(self) -> LinearModel | None:
        """The linear model whose coefficients explain a prediction."""
        return self._linear
