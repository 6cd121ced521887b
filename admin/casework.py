"""What staff do to a case: assign, correct tags, change status, reply, note.

Each action checks the version the staff member saw (so a concurrent change is reported, never
overwritten), writes the case's history and the audit log in the caller's unit of work, and
leaves committing to the caller. The database's own version check (``Case.version`` is the
mapper's version column) catches a change that lands between loading and saving.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from admin import case_states
from admin.i18n import N_
from storage.models import (
    Case,
    CaseEvent,
    CaseStatus,
    OutboxMessage,
    StaffUser,
    Tag,
    TagSource,
)
from storage.repositories.feedback import effective_tags
from storage.uow import UnitOfWork
from vocabulary import LOW_RATING_PRIORITY, SEVERITY, due_time, labels_column, triage

MAX_REPLY_LENGTH = 4000
MAX_NOTE_LENGTH = 4000
MAX_REASON_LENGTH = 1000


class CaseChanged(Exception):
    """Someone else changed the case after this staff member loaded it."""


class CaseActionError(ValueError):
    """The action is not possible as asked; the message is an untranslated English text."""


@dataclass(frozen=True)
class Actor:
    """Who acts, from where, and when."""

    staff: StaffUser
    ip: str | None
    now: datetime


def ensure_version(case: Case, seen_version: int) -> None:
    """Refuse to act on a case that changed since the staff member saw ``seen_version``."""
    if case.version != seen_version:
        raise CaseChanged


def current_labels(case: Case) -> set[str]:
    """The tags that count for the case's feedback now (staff corrections win)."""
    return {name for name, tag in effective_tags(case.feedback.tags).items() if tag["present"]}


def assign(uow: UnitOfWork, actor: Actor, case: Case, assignee: StaffUser | None) -> None:
    """Give the case to ``assignee`` (or to nobody); a new case goes into review."""
    before = {"assignee_id": case.assignee_id, "status": str(case.status)}
    case.assignee_id = assignee.id if assignee else None
    if assignee is not None and case.status == CaseStatus.NEW:
        # Taking a new case is its forward move into review (see admin.case_states).
        case.status = CaseStatus.IN_REVIEW
    _touch(case, actor)
    after = {"assignee_id": case.assignee_id, "status": str(case.status)}
    _record(uow, actor, case, "case.assign", "assign", before, after)


def change_status(
    uow: UnitOfWork,
    actor: Actor,
    case: Case,
    status: CaseStatus,
    reason: str = "",
    *,
    confirmed_backward: bool = False,
) -> None:
    """Move the case to ``status`` as :mod:`admin.case_states` allows.

    A rejection needs a reason; a move back (reopening) needs ``confirmed_backward`` and a
    reason. The audit log and the case's history record the move from → to.
    """
    reason = reason.strip()
    if len(reason) > MAX_REASON_LENGTH:
        raise CaseActionError(N_("The reason is too long."))
    try:
        case_states.check_move(case.status, status, reason, confirmed=confirmed_backward)
    except case_states.MoveRefused as exc:
        raise CaseActionError(str(exc)) from exc
    before = {"status": str(case.status), "resolution": case.resolution}
    case.status = status
    if status in (CaseStatus.RESOLVED, CaseStatus.REJECTED):
        case.closed_at = actor.now
        case.resolution = reason or case.resolution
    elif status == CaseStatus.ANSWERED:
        case.answered_at = case.answered_at or actor.now
    else:
        case.closed_at = None
    _touch(case, actor)
    after = {"status": str(case.status), "resolution": case.resolution}
    _record(uow, actor, case, "case.status", "status", before, after, body=reason or None)


def correct_tags(
    uow: UnitOfWork,
    actor: Actor,
    case: Case,
    wanted: Mapping[str, bool],
    sla_hours: Mapping[str, int],
) -> list[str]:
    """Store staff labels where ``wanted`` differs from the current tags; returns those tags.

    The case's labels, priority and due time follow the corrected tags.
    """
    unknown = set(wanted) - set(SEVERITY)
    if unknown:
        raise CaseActionError(N_("Unknown tag."))
    before_labels = current_labels(case)
    changed = [tag for tag in SEVERITY if tag in wanted and wanted[tag] != (tag in before_labels)]
    if not changed:
        return []
    for tag in changed:
        case.feedback.tags.append(
            Tag(
                tag=tag,
                source=TagSource.STAFF,
                present=wanted[tag],
                author_id=actor.staff.id,
                created_at=actor.now,
            )
        )
    labels = current_labels(case)
    before = {"labels": sorted(before_labels), "priority": case.priority}
    case.labels = labels_column(labels)
    priority = triage(labels, case.feedback.rating, case.feedback.is_direct_report)
    case.priority = LOW_RATING_PRIORITY if priority is None else priority
    case.due_at = due_time(case.opened_at, case.priority, sla_hours)
    _touch(case, actor)
    after = {"labels": sorted(labels), "priority": case.priority}
    _record(uow, actor, case, "case.tags", "tags", before, after)
    return changed


async def reply(uow: UnitOfWork, actor: Actor, case: Case, text: str) -> OutboxMessage | None:
    """Answer the citizen: queued in the outbox when their chat is known, else kept for /status.

    Returns the outbox message, or None when the answer can only be read through /status.
    """
    text = text.strip()
    if not text:
        raise CaseActionError(N_("The reply is empty."))
    if len(text) > MAX_REPLY_LENGTH:
        raise CaseActionError(N_("The reply is too long."))
    feedback = case.feedback
    respondent = await uow.cases.respondent(feedback.respondent_id)
    message: OutboxMessage | None = None
    if respondent is not None and respondent.reply_address:
        message = uow.outbox.enqueue(
            channel=feedback.channel,
            address=respondent.reply_address,
            kind="case_reply",
            text=text,
            case_id=case.id,
            payload={"ref": feedback.ref, "language": str(feedback.language)},
        )
        await uow.feedback.flush()
    before = {"status": str(case.status)}
    if CaseStatus.ANSWERED in case_states.FORWARD[case.status]:
        # Answering moves an open case forward; a closed one keeps its outcome.
        case.status = CaseStatus.ANSWERED
    case.answered_at = case.answered_at or actor.now
    _touch(case, actor)
    after = {"status": str(case.status), "outbox_id": message.id if message else None}
    _record(
        uow,
        actor,
        case,
        "case.reply",
        "reply",
        before,
        after,
        body=text,
        outbox_id=message.id if message else None,
    )
    return message


def add_note(uow: UnitOfWork, actor: Actor, case: Case, text: str) -> None:
    """An internal note for colleagues; the citizen never sees it."""
    text = text.strip()
    if not text:
        raise CaseActionError(N_("The note is empty."))
    if len(text) > MAX_NOTE_LENGTH:
        raise CaseActionError(N_("The note is too long."))
    case.first_action_at = case.first_action_at or actor.now
    _record(uow, actor, case, "case.note", "note", None, None, body=text)


def _touch(case: Case, actor: Actor) -> None:
    # Any change to the row raises Case.version, which is what concurrent editors compare.
    case.first_action_at = case.first_action_at or actor.now
    case.updated_at = actor.now


def _record(
    uow: UnitOfWork,
    actor: Actor,
    case: Case,
    action: str,
    kind: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    *,
    body: str | None = None,
    outbox_id: int | None = None,
) -> None:
    uow.cases.add_event(
        CaseEvent(
            case_id=case.id,
            actor_id=actor.staff.id,
            kind=kind,
            body=body,
            details={"before": dict(before or {}), "after": dict(after or {})}
            if before or after
            else None,
            outbox_id=outbox_id,
            created_at=actor.now,
        )
    )
    uow.audit.record(
        action,
        actor=actor.staff,
        target_type="case",
        target_id=case.id,
        before=dict(before) if before else None,
        after=dict(after) if after else None,
        ip=actor.ip,
    )
