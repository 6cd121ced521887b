"""The vocabulary's rules on their own: triage, overdue times, who sees what, the effective tag."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from vocabulary import (
    ANTICORRUPTION_MAX_PRIORITY,
    ANTICORRUPTION_TAGS,
    DEFAULT_SLA_HOURS,
    LOW_RATING_PRIORITY,
    TAG_DEFINITIONS,
    TAGS,
    due_time,
    effective_tags,
    priority_key,
    triage,
)
from vocabulary import tags as tag_module

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


@dataclass
class Row:
    tag: str
    source: str
    present: bool
    created_at: datetime
    id: int | None
    probability: float | None = None


def test_severity_order_and_the_seventh_tag() -> None:
    assert TAGS == (
        "corruption",
        "hidden_service",
        "rudeness",
        "paperwork_error",
        "misinformation",
        "delay",
        "digital_service",
    )
    assert DEFAULT_SLA_HOURS["digital_service"] == 72
    assert DEFAULT_SLA_HOURS["corruption"] == 24 and DEFAULT_SLA_HOURS["low_rating"] == 120
    assert {"corruption", "hidden_service"} == ANTICORRUPTION_TAGS
    assert ANTICORRUPTION_MAX_PRIORITY == 1
    assert [priority_key(p) for p in range(LOW_RATING_PRIORITY + 1)] == [*TAGS, "low_rating"]


def test_triage_and_due_times() -> None:
    assert triage({"digital_service"}, 5, direct=False) == 6
    assert triage({"digital_service", "misinformation"}, 5, direct=False) == 4
    assert triage(set(), 5, direct=True) == 0
    assert triage(set(), 2, direct=False) == LOW_RATING_PRIORITY
    assert triage(set(), 3, direct=False) is None
    assert due_time(T0, 6) == T0 + timedelta(hours=72)
    assert due_time(T0, 6, {"digital_service": 10}) == T0 + timedelta(hours=10)
    assert due_time(T0, LOW_RATING_PRIORITY) == T0 + timedelta(hours=120)


def test_the_anticorruption_tags_must_lead_the_severity_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The unit's queue is "priority <= n": a tag of theirs below one of the reviewers' would
    # leak the reviewers' cases to them, so the vocabulary refuses that order.
    monkeypatch.setattr(tag_module, "ANTICORRUPTION_TAGS", frozenset({"corruption", "delay"}))
    with pytest.raises(ValueError, match="most severe"):
        tag_module._anticorruption_max_priority()
    assert all(d.sla_hours >= 1 and d.label and d.meaning for d in TAG_DEFINITIONS)


def test_effective_tag_rule() -> None:
    rows = [
        Row("delay", "model", True, T0, 1, 0.8),
        Row("delay", "model", False, T0 + timedelta(hours=1), 2, 0.3),  # newer model row
        Row("rudeness", "model", False, T0 + timedelta(hours=5), 3, 0.2),
        Row("rudeness", "staff", True, T0, 4),  # a staff row beats a newer model row
        Row("corruption", "staff", True, T0, 5),
        Row("corruption", "staff", False, T0, 6),  # same time: the later row wins
        Row("corruption", "model", True, T0 + timedelta(days=1), 7, 0.9),
    ]
    result = effective_tags(rows)
    assert {tag: e.present for tag, e in result.items()} == {
        "delay": False,
        "rudeness": True,
        "corruption": False,
    }
    assert result["delay"].probability == 0.3 and result["delay"].source == "model"
    assert result["rudeness"].probability == 0.2 and result["rudeness"].source == "staff"
    assert result["corruption"].probability == 0.9
