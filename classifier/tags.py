"""Complaint tags (in severity order) and the small value types shared by the tagger."""

from __future__ import annotations

from dataclasses import dataclass, field

TAGS: tuple[str, ...] = (
    "corruption",
    "hidden_service",
    "rudeness",
    "paperwork_error",
    "misinformation",
    "delay",
    "digital_service",
)
"""All tags, most severe first. Model outputs and label lists follow this order."""

LANGS: tuple[str, ...] = ("kk", "ru", "en", "kk-ru")
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
