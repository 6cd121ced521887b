"""Refreshing the stored aggregates: a month, the months that changed, or everything.

A refresh replaces the cells of its months in one transaction (delete, then ``INSERT … SELECT``
from :mod:`admin.figures.sql`), so running it twice leaves the same rows. The incremental refresh
looks for feedback, tags and cases changed since its watermark (minus an overlap, because a row
stamped just before the last scan may have committed just after it) and refreshes only their
months.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, insert, select, text, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import Label

from admin.figures.sql import cells_with_median
from storage.models import AggregateWatermark, Case, Feedback, MonthlyAggregate, Tag
from storage.types import UTCDateTime, utcnow

WATERMARK = "feedback"
# Moved on every refresh, so readers can cache what they built from the aggregates.
VERSION = "version"
# Serialises refreshes across processes on PostgreSQL ("PIKIR" in ASCII).
_REFRESH_LOCK = 0x50494B4952


@dataclass
class RefreshResult:
    """What a refresh did: the months recomputed and how many cells they now have."""

    months: list[str] = field(default_factory=list)
    cells: int = 0


async def _lock(session: AsyncSession) -> None:
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _REFRESH_LOCK})
        # For this transaction only: JIT compilation costs more than it saves on these one-off
        # statements, and the sorts of a month's rows fit in memory instead of spilling to disk.
        await session.execute(text("SET LOCAL jit = off"))
        await session.execute(text("SET LOCAL work_mem = '64MB'"))


async def _replace(session: AsyncSession, months: list[str] | None, now: datetime) -> int:
    statement, names = cells_with_median(months, session.bind.dialect.name)
    remove = delete(MonthlyAggregate)
    if months is not None:
        remove = remove.where(MonthlyAggregate.month.in_(months))
    await session.execute(remove)
    columns = [*names, "computed_at"]
    source = select(*statement.subquery().c, _bind_now(now))
    result = await session.execute(insert(MonthlyAggregate).from_select(columns, source))
    await _stamp(session, VERSION, now)
    return int(getattr(result, "rowcount", 0) or 0)


def _bind_now(now: datetime) -> Label[datetime]:
    return bindparam("computed_at", now, type_=UTCDateTime()).label("computed_at")


async def refresh_months(
    session: AsyncSession, months: Iterable[str], *, now: datetime | None = None
) -> RefreshResult:
    """Recompute the cells of ``months`` (in the caller's transaction)."""
    wanted = sorted(set(months))
    if not wanted:
        return RefreshResult()
    await _lock(session)
    cells = await _replace(session, wanted, now or utcnow())
    return RefreshResult(months=wanted, cells=cells)


async def rebuild_all(session: AsyncSession, *, now: datetime | None = None) -> RefreshResult:
    """Recompute every month from the raw rows and move the watermark to ``now``."""
    now = now or utcnow()
    await _lock(session)
    cells = await _replace(session, None, now)
    months = (
        await session.scalars(select(MonthlyAggregate.month).distinct().order_by("month"))
    ).all()
    await _set_watermark(session, now)
    return RefreshResult(months=list(months), cells=cells)


async def changed_months(session: AsyncSession, since: datetime) -> list[str]:
    """Months of feedback that changed, got a tag or whose case moved after ``since``."""
    query = union(
        select(Feedback.month).where(Feedback.updated_at > since),
        select(Feedback.month)
        .join(Tag, Tag.feedback_id == Feedback.id)
        .where(Tag.created_at > since),
        select(Feedback.month)
        .join(Case, Case.feedback_id == Feedback.id)
        .where(Case.updated_at > since),
    )
    return sorted((await session.scalars(query)).all())


async def refresh_changed(
    session: AsyncSession,
    *,
    now: datetime | None = None,
    overlap: timedelta = timedelta(minutes=10),
    also: Iterable[str] = (),
) -> RefreshResult:
    """Refresh the months changed since the watermark (and ``also``); first run rebuilds all."""
    now = now or utcnow()
    await _lock(session)
    mark = await session.get(AggregateWatermark, WATERMARK)
    if mark is None:
        return await rebuild_all(session, now=now)
    months = set(await changed_months(session, mark.seen_until - overlap)) | set(also)
    result = await refresh_months(session, months, now=now)
    await _set_watermark(session, now)
    return result


async def _set_watermark(session: AsyncSession, now: datetime) -> None:
    await _stamp(session, WATERMARK, now)


async def _stamp(session: AsyncSession, name: str, now: datetime) -> None:
    mark = await session.get(AggregateWatermark, name)
    if mark is None:
        session.add(AggregateWatermark(name=name, seen_until=now))
    else:
        mark.seen_until = now
    await session.flush()
