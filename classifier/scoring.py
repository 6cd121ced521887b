"""What both taggers share: a model's tags and thresholds, thresholding and explanations."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from classifier.linear import LinearModel
from classifier.tags import TAGS, Prediction


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

        ``ValueError`` when the model's outputs and its named tags do not match.
        """
        meta = dict(metadata or {})
        labels = model_labels(meta, thresholds)
        if n_outputs is not None and n_outputs != len(labels):
            raise ValueError(f"the model has {n_outputs} outputs but {len(labels)} tags are named")
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
