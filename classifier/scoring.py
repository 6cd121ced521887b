"""What both taggers share: a model's tags and thresholds, thresholding and explanations."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from classifier import normalize
from classifier.linear import LinearModel
from classifier.tags import TAGS, Prediction

log = logging.getLogger(__name__)


def model_labels(metadata: Mapping[str, Any], thresholds: Mapping[str, float]) -> tuple[str, ...]:
    """The tags a model outputs, in its column order.

    A model names them in its metadata (``tags``); one trained before that was recorded has a
    threshold for each of its tags and outputs them in the vocabulary's order, so a model that
    predates a newer tag serves the tags it knows and never reports the new one.
    """
    named = metadata.get("tags")
    if named:
        return tuple(str(tag) for tag in named)
    return tuple(tag for tag in TAGS if tag in thresholds)


@dataclass(frozen=True)
class ModelCard:
    """What a trained model says about itself: its version, tags, thresholds and metadata."""

    version: str
    labels: tuple[str, ...]
    thresholds: dict[str, float]
    metadata: dict[str, Any]

    @classmethod
    def of(
        cls,
        thresholds: Mapping[str, float],
        version: str,
        metadata: Mapping[str, Any] | None,
        n_outputs: int | None,
    ) -> ModelCard:
        """The card of a model with ``n_outputs`` columns (``None``: not known here).

        ``ValueError`` when the model's outputs and its named tags do not match. A model
        trained with other word lists than the normaliser reads now is logged as a warning:
        it still scores, on features that differ from its training's.
        """
        meta = dict(metadata or {})
        labels = model_labels(meta, thresholds)
        if n_outputs is not None and n_outputs != len(labels):
            raise ValueError(f"the model has {n_outputs} outputs but {len(labels)} tags are named")
        trained_with = meta.get("lexicon")
        if trained_with and trained_with != normalize.shared().lexicon.lists_digest:
            log.warning(
                "model %s was trained with other word lists than classifier/wordlists: retrain it",
                version,
            )
        return cls(version, labels, {t: float(thresholds[t]) for t in labels}, meta)


Probabilities = Callable[[Sequence[str]], Sequence[Sequence[float]]]


def predict(
    card: ModelCard, probabilities: Probabilities, texts: Sequence[Any]
) -> list[Prediction]:
    """Thresholded predictions; empty/None/non-string items get ``Prediction([], {})``."""
    results = [Prediction([], {}) for _ in texts]
    valid = [i for i, t in enumerate(texts) if isinstance(t, str) and t.strip()]
    if not valid:
        return results
    proba = probabilities([texts[i] for i in valid])
    for row, i in zip(proba, valid, strict=True):
        results[i] = Prediction(
            labels=[
                tag for tag, p in zip(card.labels, row, strict=True) if p >= card.thresholds[tag]
            ],
            scores={tag: round(float(p), 4) for tag, p in zip(card.labels, row, strict=True)},
        )
    return results


def explain(
    card: ModelCard,
    explainer: LinearModel | None,
    predicted: Sequence[str],
    text: str,
    top: int,
) -> dict[str, list[tuple[str, float]]]:
    """The words/n-grams of ``text`` that pushed each of the ``predicted`` tags up the most.

    See :meth:`LinearModel.explain` for how words are credited; no explainer, no words.
    """
    if not predicted or explainer is None:
        return {}
    why = explainer.explain(text, [card.labels.index(tag) for tag in predicted], top)
    return {card.labels[k]: words for k, words in why.items()}


class CardTagger:
    """What both taggers share once they have a :class:`ModelCard`: the card's facts, thresholded
    predictions and explanations; each implementation supplies its own probabilities and the
    linear weights that explain them."""

    _card: ModelCard

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
        raise NotImplementedError

    def _explanation_model(self) -> LinearModel | None:
        raise NotImplementedError

    def predict(self, texts: Sequence[Any]) -> list[Prediction]:
        """Predict tags for a batch; empty/None/non-string items get ``Prediction([], {})``."""
        return predict(self._card, self.probabilities, texts)

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
        return explain(self._card, self._explanation_model(), tags, text, top)
