"""The complaint classifier behind the conversation core's tagger port."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import structlog

from bot.conversation import TagResult

log = structlog.get_logger("pikir.tagging")


class ClassifierTagger:
    """Wraps ``classifier.tagger.Tagger`` (``predict(texts) -> [Prediction]``, ``version``)."""

    def __init__(self, tagger: Any) -> None:
        self._tagger = tagger

    @classmethod
    def load(cls, artifacts_dir: Path | None) -> ClassifierTagger | None:
        """The shipped (or configured) model; None, logged, when it cannot be loaded."""
        try:
            # Imported by name: the classifier package is built separately and may be absent.
            module = importlib.import_module("classifier.tagger")
            return cls(module.Tagger.load(artifacts_dir))
        except Exception as exc:
            log.warning("classifier.unavailable", error=f"{type(exc).__name__}: {exc}")
            return None

    def explain(self, text: str, top: int = 3) -> dict[str, list[tuple[str, float]]]:
        """The words behind each predicted tag (for the staff panel's case page)."""
        return dict(self._tagger.explain(text, top=top))

    def tag(self, text: str) -> TagResult | None:
        """The model's labels and per-tag probabilities for one text."""
        [prediction] = self._tagger.predict([text])
        return TagResult(
            scores={name: float(score) for name, score in prediction.scores.items()},
            labels=frozenset(prediction.labels),
            model_version=str(self._tagger.version),
        )
