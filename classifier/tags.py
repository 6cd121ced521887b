"""Complaint tags (in severity order) and the small value types shared by the tagger.

The tags and languages are the vocabulary's (:mod:`vocabulary`); the names here stay for the
classifier's own code. ``TAGS`` is the label set the training pipeline learns: every vocabulary
tag but those still waiting for training data. A model trained before a tag existed outputs
fewer tags (see ``ServingTagger.labels``); the service then never reports the missing ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vocabulary import DATA_LANGUAGES
from vocabulary import TAGS as VOCABULARY_TAGS

AWAITING_DATA: frozenset[str] = frozenset()
"""Vocabulary tags the labelled data has no examples of yet. The pipeline cannot learn a tag
without examples, so it leaves these out until the data comes; the vocabulary test fails as soon
as the data has an example of one (or a tag is neither learned nor listed here)."""

TAGS: tuple[str, ...] = tuple(tag for tag in VOCABULARY_TAGS if tag not in AWAITING_DATA)
"""The tags the pipeline learns, most severe first. Model outputs and label lists follow it."""

LANGS: tuple[str, ...] = DATA_LANGUAGES
"""Languages a labelled message may be marked with."""


@dataclass(frozen=True)
class LabelledText:
    """One hand-labelled citizen message."""

    id: str
    lang: str
    text: str
    labels: tuple[str, ...] = ()


@dataclass
class Prediction:
    """Tags predicted for one message with every tag's calibrated probability."""

    labels: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)


def sort_tags(labels: list[str] | tuple[str, ...] | set[str]) -> list[str]:
    """Return the given tags de-duplicated and in severity (``TAGS``) order."""
    wanted = set(labels)
    return [tag for tag in TAGS if tag in wanted]
