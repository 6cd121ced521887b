"""The review queue: cases in severity order, filtered and paged by keyset, and one case in full.

Every filter reads the ``cases`` table alone (the filter columns are copied there from the
feedback) except the text search, which looks the words up in ``feedback`` through an index on
PostgreSQL. Pages are keyset pages on ``(priority, opened_at, id)`` so page 1000 costs what
page 1 costs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    false,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy import case as sql_case
from sqlalchemy import text as sql_text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import (
    Attachment,
    Case,
    CaseEvent,
    CaseStatus,
    Channel,
    Feedback,
    Language,
    Office,
    OutboxMessage,
    Respondent,
    StaffUser,
)

OPEN_STATUSES: tuple[CaseStatus, ...] = (CaseStatus.NEW, CaseStatus.IN_REVIEW)


@dataclass(frozen=True)
class CaseScope:
    """The cases one staff member may see.

    ``region_codes`` limits to those regions (an empty tuple means none at all); ``max_priority``
    limits to the most severe ranks (0 = corruption and direct reports, 1 = hidden service).
    ``None`` means no limit.
    """

    region_codes: tuple[str, ...] | None = None
    max_priority: int | None = None

    def allows(self, case: Case) -> bool:
        """Whether ``case`` lies inside this scope."""
        if self.region_codes is not None and case.region_code not in self.region_codes:
            return False
        return self.max_priority is None or case.priority <= self.max_priority


@dataclass(frozen=True)
class QueueFilter:
    """What a staff member narrowed the queue to; empty fields do not filter.

    ``statuses`` empty means every status.
    """

    statuses: tuple[CaseStatus, ...] = OPEN_STATUSES
    tag: str | None = None
    office_id: int | None = None
    region_code: str | None = None
    service_id: int | None = None
    channel: Channel | None = None
    language: Language | None = None
    opened_from: datetime | None = None
    opened_before: datetime | None = None
    text: str | None = None
    reference: str | None = None
    overdue_at: datetime | None = None
    assignee_id: int | None = None


@dataclass(frozen=True)
class QueueCursor:
    """A position in queue order."""

    priority: int
    opened_at: datetime
    id: int

    @classmethod
    def of(cls, row: QueueRow) -> QueueCursor:
        """The position of a row of the queue."""
        return cls(row.priority, row.opened_at, row.id)


@dataclass(frozen=True)
class QueueRow:
    """One line of the queue: the case and what the list shows of its feedback."""

    id: int
    priority: int
    status: CaseStatus
    opened_at: datetime
    due_at: datetime | None
    assignee_id: int | None
    labels: tuple[str, ...]
    ref: str
    rating: int | None
    text: str | None
    office_code: str | None


@dataclass(frozen=True)
class QueueCounts:
    """How many cases of each status, and how many open ones are overdue."""

    per_status: dict[CaseStatus, int]
    overdue: int


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue and the cursors to its neighbours (None at either end)."""

    rows: Sequence[QueueRow]
    next_cursor: QueueCursor | None
    prev_cursor: QueueCursor | None


class CaseRepository:
    """Reads the queue and single cases; records case events."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def queue(
        self,
        scope: CaseScope,
        wanted: QueueFilter,
        *,
        after: QueueCursor | None = None,
        before: QueueCursor | None = None,
        limit: int = 50,
    ) -> QueuePage:
        """A page of the queue in order (severity, then age), after or before a cursor.

        The page's cases are picked from ``cases`` alone (on its indexes), then joined to their
        feedback and office for display: plain rows, no ORM objects, as a list page needs.
        """
        order = (Case.priority, Case.opened_at, Case.id)
        picked = select(
            Case.id,
            Case.feedback_id,
            Case.priority,
            Case.status,
            Case.opened_at,
            Case.due_at,
            Case.assignee_id,
            Case.labels,
        ).where(*self._conditions(scope, wanted, with_status=True))
        backwards = before is not None and after is None
        if backwards:
            assert before is not None
            picked = picked.where(tuple_(*order) < _cursor_tuple(before))
            picked = picked.order_by(*(column.desc() for column in order))
        else:
            if after is not None:
                picked = picked.where(tuple_(*order) > _cursor_tuple(after))
            picked = picked.order_by(*order)
        page = picked.limit(limit + 1).subquery("page")
        query = (
            select(page, Feedback.ref, Feedback.rating, Feedback.text, Office.code)
            .join(Feedback, Feedback.id == page.c.feedback_id)
            .outerjoin(Office, Office.id == Feedback.office_id)
            .order_by(page.c.priority, page.c.opened_at, page.c.id)
        )
        rows = [
            QueueRow(
                id=row.id,
                priority=row.priority,
                status=CaseStatus(row.status),
                opened_at=row.opened_at,
                due_at=row.due_at,
                assignee_id=row.assignee_id,
                labels=tuple(tag for tag in row.labels.split(",") if tag),
                ref=row.ref,
                rating=row.rating,
                text=row.text,
                office_code=row.code,
            )
            for row in await self.session.execute(query)
        ]
        more = len(rows) > limit
        if backwards:
            rows = rows[-limit:] if more else rows
            next_cursor = QueueCursor.of(rows[-1]) if rows else None
            prev_cursor = QueueCursor.of(rows[0]) if rows and more else None
        else:
            rows = rows[:limit]
            next_cursor = QueueCursor.of(rows[-1]) if rows and more else None
            prev_cursor = QueueCursor.of(rows[0]) if rows and after is not None else None
        return QueuePage(rows, next_cursor, prev_cursor)

    async def counts(self, scope: CaseScope, wanted: QueueFilter, now: datetime) -> QueueCounts:
        """Cases matching the filter (ignoring its status part) per status, and how many are
        overdue at ``now`` — one query."""
        overdue = sql_case((and_(Case.due_at < now, Case.status.in_(OPEN_STATUSES)), 1), else_=0)
        query = (
            select(Case.status, func.count(), func.sum(overdue))
            .where(*self._conditions(scope, wanted, with_status=False))
            .group_by(Case.status)
        )
        per_status = {status: 0 for status in CaseStatus}
        overdue_total = 0
        for status, count, late in (await self.session.execute(query)).all():
            per_status[CaseStatus(status)] = int(count)
            overdue_total += int(late or 0)
        return QueueCounts(per_status, overdue_total)

    def _conditions(
        self, scope: CaseScope, wanted: QueueFilter, *, with_status: bool
    ) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if scope.region_codes is not None:
            conditions.append(
                Case.region_code.in_(scope.region_codes) if scope.region_codes else false()
            )
        if scope.max_priority is not None:
            conditions.append(Case.priority <= scope.max_priority)
        if with_status and set(wanted.statuses) == set(OPEN_STATUSES):
            conditions.append(_is_open())
        elif with_status and wanted.statuses:
            conditions.append(Case.status.in_(wanted.statuses))
        if wanted.tag:
            conditions.append(Case.labels.like(f"%,{_escape_like(wanted.tag)},%", escape="\\"))
        for column, value in (
            (Case.office_id, wanted.office_id),
            (Case.region_code, wanted.region_code),
            (Case.service_id, wanted.service_id),
            (Case.channel, wanted.channel),
            (Case.language, wanted.language),
            (Case.assignee_id, wanted.assignee_id),
        ):
            if value is not None:
                conditions.append(column == value)
        if wanted.opened_from is not None:
            conditions.append(Case.opened_at >= wanted.opened_from)
        if wanted.opened_before is not None:
            conditions.append(Case.opened_at < wanted.opened_before)
        if wanted.overdue_at is not None:
            conditions.append(and_(_is_open(), Case.due_at < wanted.overdue_at))
        if wanted.reference:
            conditions.append(
                Case.feedback_id.in_(select(Feedback.id).where(Feedback.ref == wanted.reference))
            )
        if wanted.text:
            conditions.append(Case.feedback_id.in_(self._text_matches(wanted.text)))
        return conditions or [true()]

    def _text_matches(self, needle: str) -> Select[tuple[int]]:
        pattern = f"%{_escape_like(needle)}%"
        if self.session.bind.dialect.name == "postgresql":
            # The matches are collected first, through the trigram index over queued feedback
            # (ix_feedback_case_text_trgm): the planner cannot estimate a substring's
            # frequency, and when it guesses "common" it walks the queue testing every text,
            # which for a rare word reads the whole queue.
            matches = (
                select(Feedback.id)
                .where(Feedback.has_case == true(), Feedback.text.ilike(pattern, escape="\\"))
                .cte("text_matches")
                .prefix_with("MATERIALIZED")
            )
            return select(matches.c.id)
        # SQLite's lower() is replaced by a Unicode-aware one in storage.database.
        condition = func.lower(Feedback.text).like(pattern.lower(), escape="\\")
        return select(Feedback.id).where(Feedback.has_case == true(), condition)

    async def get(self, case_id: int) -> Case | None:
        """One case with its feedback (tags, attachments, office, service) and history."""
        return await self.session.scalar(
            select(Case)
            .where(Case.id == case_id)
            .options(
                selectinload(Case.feedback).selectinload(Feedback.tags),
                selectinload(Case.feedback).selectinload(Feedback.attachments),
                selectinload(Case.feedback).selectinload(Feedback.office),
                selectinload(Case.feedback).selectinload(Feedback.service),
                selectinload(Case.events),
            )
            .execution_options(populate_existing=True)
        )

    async def respondent(self, respondent_id: int | None) -> Respondent | None:
        """The respondent a feedback came from, if it is still known."""
        if respondent_id is None:
            return None
        return await self.session.get(Respondent, respondent_id)

    async def outbox_messages(self, case_id: int) -> dict[int, OutboxMessage]:
        """The outgoing messages of a case by id, for their delivery status."""
        rows = await self.session.scalars(
            select(OutboxMessage).where(OutboxMessage.case_id == case_id)
        )
        return {message.id: message for message in rows}

    async def staff_names(self, staff_ids: set[int]) -> dict[int, str]:
        """Display names of the given staff members."""
        if not staff_ids:
            return {}
        rows = await self.session.execute(
            select(StaffUser.id, StaffUser.display_name, StaffUser.login).where(
                StaffUser.id.in_(staff_ids)
            )
        )
        return {row.id: row.display_name or row.login for row in rows}

    async def references(self, feedback_ids: set[int]) -> dict[int, str]:
        """Reference numbers of the given feedback rows."""
        if not feedback_ids:
            return {}
        rows = await self.session.execute(
            select(Feedback.id, Feedback.ref).where(Feedback.id.in_(feedback_ids))
        )
        return {row.id: row.ref for row in rows}

    async def attachment(self, attachment_id: int) -> tuple[Attachment, Case] | None:
        """An attachment and the case of its feedback (None if either is missing)."""
        row = (
            await self.session.execute(
                select(Attachment, Case)
                .join(Case, Case.feedback_id == Attachment.feedback_id)
                .where(Attachment.id == attachment_id)
            )
        ).first()
        return None if row is None else (row[0], row[1])

    def add_event(self, event: CaseEvent) -> None:
        """Append one entry to a case's history."""
        self.session.add(event)

    async def claim_overdue_for_reminder(
        self, now: datetime, remind_again_after: timedelta
    ) -> Sequence[OverdueCase]:
        """Open cases past due and not reminded within ``remind_again_after``, most severe
        first, marked as reminded ``now``. The rows stay locked (others skip them) until the
        caller's transaction ends, so two workers never remind of the same case."""
        due = and_(
            Case.status.in_(OPEN_STATUSES),
            Case.due_at < now,
            or_(Case.reminded_at.is_(None), Case.reminded_at < now - remind_again_after),
        )
        rows = (
            await self.session.execute(
                select(Case.id, Case.region_code)
                .where(due)
                .order_by(Case.priority, Case.due_at)
                .with_for_update(skip_locked=True)
            )
        ).all()
        found = [OverdueCase(row.id, row.region_code) for row in rows]
        if found:
            await self.session.execute(
                update(Case)
                .where(Case.id.in_([case.id for case in found]))
                .values(reminded_at=now)
                .execution_options(synchronize_session=False)
            )
        return found

    async def opened_since(self, since: datetime) -> int:
        """How many cases were opened from ``since`` on."""
        return int(
            await self.session.scalar(
                select(func.count()).select_from(Case).where(Case.opened_at >= since)
            )
            or 0
        )

    async def closed_since(self, since: datetime) -> int:
        """How many cases were closed from ``since`` on."""
        return int(
            await self.session.scalar(
                select(func.count()).select_from(Case).where(Case.closed_at >= since)
            )
            or 0
        )

    async def overdue_count(self, now: datetime) -> int:
        """How many open cases are past their due time at ``now``."""
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(Case)
                .where(Case.status.in_(OPEN_STATUSES), Case.due_at < now)
            )
            or 0
        )


@dataclass(frozen=True)
class OverdueCase:
    """An overdue case as the staff chat's reminder lists it."""

    id: int
    region_code: str | None


def _cursor_tuple(cursor: QueueCursor) -> ColumnElement[Any]:
    return tuple_(
        literal(cursor.priority, Case.priority.type),
        literal(cursor.opened_at, Case.opened_at.type),
        literal(cursor.id, Case.id.type),
    )


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _is_open() -> ColumnElement[bool]:
    # Literal values, written exactly as in the partial index ix_cases_open_queue: with bound
    # parameters PostgreSQL's generic plans could not prove the index applies.
    return and_(sql_text("cases.status IN ('new', 'in_review')"))
