"""Recording a finished feedback: the row, the model's tags and, when flagged, a case.

Every channel (Telegram, web chat, import, demo) builds its feedback with :func:`build_feedback`
so a feedback is stored the same way from everywhere; the flagging rule itself (DESIGN.md,
"Staff side") is the vocabulary's :func:`vocabulary.triage`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from storage.models import (
    Attachment,
    Case,
    CaseStatus,
    Channel,
    Feedback,
    Language,
    Tag,
    TagSource,
)
from storage.repositories.feedback import new_reference
from storage.types import utcnow
from vocabulary import (
    CRITERIA,
    DEFAULT_SLA_HOURS,
    DEFAULT_TIMEZONE,
    due_time,
    labels_column,
    triage,
)


@dataclass(frozen=True)
class AttachmentDraft:
    """A photo to store with the feedback."""

    location: str
    content_type: str = "image/jpeg"
    size: int = 0


@dataclass(frozen=True)
class TagScores:
    """The classifier's output for one text."""

    scores: Mapping[str, float]
    labels: frozenset[str]
    model_version: str


@dataclass
class FeedbackDraft:
    """Everything a citizen gave, ready to be stored."""

    channel: Channel
    language: Language
    office_id: int | None = None
    region_code: str | None = None
    service_id: int | None = None
    rating: int | None = None
    criteria: Mapping[str, bool | None] = field(default_factory=dict)
    text: str | None = None
    is_direct_report: bool = False
    consent_contact: bool = False
    respondent_id: int | None = None
    source_id: str | None = None
    created_at: datetime | None = None
    attachments: list[AttachmentDraft] = field(default_factory=list)
    # Past survey answers loaded for the figures are not cases for staff to work.
    opens_case: bool = True


def month_of(moment: datetime, timezone: str = DEFAULT_TIMEZONE) -> str:
    """``YYYY-MM`` of a moment in the agency's time zone."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m")


def build_feedback(
    draft: FeedbackDraft,
    tags: TagScores | None,
    *,
    timezone: str = DEFAULT_TIMEZONE,
    sla_hours: Mapping[str, int] = DEFAULT_SLA_HOURS,
) -> Feedback:
    """A new :class:`Feedback` with its model tags, attachments and (if flagged) its case."""
    created = draft.created_at or utcnow()
    text = (draft.text or "").strip() or None
    feedback = Feedback(
        ref=new_reference(),
        channel=draft.channel,
        language=draft.language,
        month=month_of(created, timezone),
        office_id=draft.office_id,
        service_id=draft.service_id,
        rating=draft.rating,
        text=text,
        has_text=text is not None,
        is_direct_report=draft.is_direct_report,
        consent_contact=draft.consent_contact,
        respondent_id=draft.respondent_id,
        source_id=draft.source_id,
        created_at=created,
        updated_at=created,
    )
    for name in CRITERIA:
        setattr(feedback, f"crit_{name}", draft.criteria.get(name))
    labels: frozenset[str] = frozenset()
    if tags is not None:
        labels = tags.labels
        feedback.tags = [
            Tag(
                tag=name,
                source=TagSource.MODEL,
                present=name in tags.labels,
                probability=float(score),
                model_version=tags.model_version,
                created_at=created,
            )
            for name, score in sorted(tags.scores.items())
        ]
    feedback.attachments = [
        Attachment(
            location=a.location, content_type=a.content_type, size=a.size, created_at=created
        )
        for a in draft.attachments
    ]
    priority = triage(labels, draft.rating, draft.is_direct_report) if draft.opens_case else None
    feedback.has_case = priority is not None
    if priority is not None:
        feedback.case = Case(
            status=CaseStatus.NEW,
            priority=priority,
            region_code=draft.region_code,
            office_id=draft.office_id,
            service_id=draft.service_id,
            channel=draft.channel,
            language=draft.language,
            labels=labels_column(labels),
            opened_at=created,
            due_at=due_time(created, priority, sla_hours),
        )
    return feedback
