"""Which feedback becomes a case, how urgent it is and when it is overdue."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta

from vocabulary.tags import DEFAULT_SLA_HOURS, LOW_RATING, LOW_RATING_PRIORITY, SEVERITY

LOW_RATING_MAX = 2
"""A rating at or below this flags a feedback even without a tag."""


def triage(labels: Collection[str], rating: int | None, direct: bool) -> int | None:
    """The case priority (0 = most severe) of a feedback, or None if it is not flagged.

    A direct corruption report ranks with corruption; otherwise the worst tag decides; a low
    rating without a tag comes last.
    """
    if direct:
        return 0
    for rank, tag in enumerate(SEVERITY):
        if tag in labels:
            return rank
    if rating is not None and rating <= LOW_RATING_MAX:
        return LOW_RATING_PRIORITY
    return None


def priority_key(priority: int) -> str:
    """The tag a priority stands for, or ``low_rating`` past the tags."""
    return SEVERITY[priority] if 0 <= priority < len(SEVERITY) else LOW_RATING


def labels_column(labels: Collection[str]) -> str:
    """Tags as stored in a case's ``labels``: ``",corruption,delay,"`` (sorted), or ``""``.

    The commas at both ends let a filter match one tag with ``LIKE '%,delay,%'``.
    """
    return "," + ",".join(sorted(labels)) + "," if labels else ""


def due_time(
    opened_at: datetime, priority: int, sla_hours: Mapping[str, int] = DEFAULT_SLA_HOURS
) -> datetime:
    """When a case of this priority is overdue (``sla_hours`` overrides the defaults)."""
    key = priority_key(priority)
    return opened_at + timedelta(hours=sla_hours.get(key, DEFAULT_SLA_HOURS[key]))
