"""The domain's vocabulary, once: tags, criteria, languages, triage, time zone, personal data.

Every layer (conversation core, storage, classifier, staff panel) may import this package; it
imports nothing of the project and nothing outside the standard library, so an import contract
keeps it at the bottom. Adding a tag means adding one :class:`TagDefinition` in
:mod:`vocabulary.tags` (plus a migration for the figures' count columns, training data and the
tag's translations); the vocabulary test lists every place that must then know it.
"""

from __future__ import annotations

from vocabulary.criteria import CRITERIA
from vocabulary.effective import EffectiveTag, TagRow, effective_tags, newest_first_key
from vocabulary.languages import DATA_LANGUAGES, LANGUAGES
from vocabulary.tags import (
    ANTICORRUPTION_MAX_PRIORITY,
    ANTICORRUPTION_TAGS,
    DEFAULT_SLA_HOURS,
    LOW_RATING,
    LOW_RATING_PRIORITY,
    SEVERITY,
    TAG_DEFINITIONS,
    TAG_LABELS,
    TAGS,
    TagDefinition,
)
from vocabulary.timezone import DEFAULT_TIMEZONE
from vocabulary.triage import due_time, labels_column, priority_key, triage

__all__ = [
    "ANTICORRUPTION_MAX_PRIORITY",
    "ANTICORRUPTION_TAGS",
    "CRITERIA",
    "DATA_LANGUAGES",
    "DEFAULT_SLA_HOURS",
    "DEFAULT_TIMEZONE",
    "LANGUAGES",
    "LOW_RATING",
    "LOW_RATING_PRIORITY",
    "SEVERITY",
    "TAGS",
    "TAG_DEFINITIONS",
    "TAG_LABELS",
    "EffectiveTag",
    "TagDefinition",
    "TagRow",
    "due_time",
    "effective_tags",
    "labels_column",
    "newest_first_key",
    "priority_key",
    "triage",
]
