"""The complaint classifier behind the conversation core's tagger port."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from bot.conversation import TagResult

if TYPE_CHECKING:
    from classifier.port import TaggerModel

log = structlog.get_logger("pikir.tagging")


class ClassifierTagger:
    """Wraps the classifier's tagger for the conversation and the staff panel."""

    def __init__(self, tagger: TaggerModel) -> None:
        self._tagger = tagger

    @classmethod
    def load(cls, artifacts_dir: Path | None) -> ClassifierTagger | None:
        """The shipped (or configured) model; None, logged, when it cannot be loaded."""
        try:
            return cls(_load(artifacts_dir))
        except Exception as exc:  # a missing or unreadable artifact must not stop the service
            log.warning("classifier.unavailable", error=f"{type(exc).__name__}: {exc}")
            return None

    def reload(self, artifacts_dir: Path | None) -> bool:
        """Serve the model now in ``artifacts_dir`` (after retraining promoted one).

        On failure the model in service stays, the reason is logged, and this returns False.
        """
        try:
            fresh = _load(artifacts_dir)
        except Exception as exc:  # keep tagging with the model that works
            log.warning("classifier.reload_failed", error=f"{type(exc).__name__}: {exc}")
            return False
        self._tagger = fresh  # one reference swap: callers see the old model or the new one
        log.info("classifier.reloaded", version=fresh.version)
        return True

    def explain(self, text: str, top: int = 3) -> dict[str, list[tuple[str, float]]]:
        """The words behind each predicted tag (for the staff panel's case page)."""
        return dict(self._tagger.explain(text, top=top))

    def tag(self, text: str) -> TagResult | None:
        """The model's labels and per-tag probabilities for one text."""
        [result] = self.tag_many([text])
        return result

    def tag_many(self, texts: Sequence[str]) -> list[TagResult]:
        """Like :meth:`tag` for many texts in one batch (the model is much faster that way)."""
        tagger = self._tagger  # one model for the whole batch, even if a reload swaps it
        version = str(tagger.version)
        return [
            TagResult(
                scores={name: float(score) for name, score in prediction.scores.items()},
                labels=frozenset(prediction.labels),
                model_version=version,
            )
            for prediction in tagger.predict(texts)
        ]


def _load(artifacts_dir: Path | None) -> TaggerModel:
    """The model in ``artifacts_dir`` (default: the shipped one).

    Its ``linear.zip`` is served by the standard library alone; only a model without one (a
    calibrated SVM) loads the scikit-learn pipeline, which costs over 100 MB of memory.
    """
    # Imported here, not at the top: a service with the classifier switched off and every CLI
    # command should not pay for loading the classifier's modules.
    from classifier.layout import LINEAR_FILE, model_dir
    from classifier.serving import ServingTagger

    if (model_dir(artifacts_dir) / LINEAR_FILE).exists():
        return ServingTagger.load(artifacts_dir)
    from classifier.tagger import Tagger

    return Tagger.load(artifacts_dir)
