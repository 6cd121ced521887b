"""Refreshing the stored aggregates: a month, the months that changed, or everything.

A refresh replaces cells in one transaction (delete, then ``INSERT … SELECT`` from
:mod:`admin.figures.sql`), so running it twice leaves the same rows. The incremental refresh
looks for feedback, tags and cases changed since its watermark (minus an overlap, because a row
stamped just before the last scan may have committed just after it) and recomputes only the
cells those feedback rows fall in; a month, a rebuild or a historic import recomputes whole
months.

The application never deletes feedback, tags or cases (erasure and retention blank the text and
keep the row), so the watermark sees every change that moves a figure. Rows deleted by hand in
the database are not seen: refresh their month (``pikir aggregate --month``) or rebuild.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, delete, insert, select, text, tuple_, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement, Label

from admin.figures.bulk_write import emptied_with_indexes_after
from admin.figures.rollups import rebuild_rollups
from admin.figures.sql import cell_codes, cells_of, cells_with_median, feedback_ids, in_cells
from storage.models import AggregateWatermark, Case, Feedback, MonthlyAggregate, Tag
from storage.types import UTCDateTime, utcnow

WATERMARK = "feedback"
# Moved on every refresh, so readers can cache what they built from the aggregates.
VERSION = "version"
# Serialises refreshes across processes on PostgreSQL ("PIKIR" in ASCII).
_REFRESH_LOCK = 0x50494B4952
# Above this many changed feedback rows, recomputing their whole months is the cheaper way to
# the same result than matching every row of those months against the changed cells.
CELL_REFRESH_LIMIT = 20_000
CELL_KEY_COLUMNS = ("month", "office_code", "service_code", "channel", "language")
# For a refresh's transaction only (PostgreSQL): JIT compilation costs more than it saves on
# these one-off statements, and the sorts of a month's rows fit in memory instead of spilling
# to disk. The figures benchmark times its plain query under the same settings.
REFRESH_SETTINGS = ("SET LOCAL jit = off", "SET LOCAL work_mem = '64MB'")


@dataclass
class RefreshResult:
    """What a refresh did: the months recomputed and how many cells they now have."""

    months: list[str] = field(default_factory=list)
    cells: int = 0


async def _lock(session: AsyncSession) -> None:
    """Serialise refreshes (PostgreSQL); taken once by each public entry point."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _REFRESH_LOCK})
        for setting in REFRESH_SETTINGS:
            await session.execute(text(setting))


async def _replace(
    session: AsyncSession,
    months: list[str] | None,
    now: datetime,
    cells: Select[Any] | None = None,
) -> int:
    """Delete and recompute the cells of ``months`` (all of them, or only ``cells``).

    Every month at once (a rebuild) on PostgreSQL empties the table and builds its lookup
    indexes after the insert instead (:mod:`admin.figures.bulk_write`).
    """
    dialect = session.bind.dialect.name
    remove = delete(MonthlyAggregate)
    where: list[ColumnElement[bool]] = []
    if months is not None:
        remove = remove.where(MonthlyAggregate.month.in_(months))
    if cells is not None:
        stored_key = tuple_(*(getattr(MonthlyAggregate, key) for key in CELL_KEY_COLUMNS))
        remove = remove.where(stored_key.in_(cell_codes(cells)))
        where.append(in_cells(cells))
    statement, names = cells_with_median(months, dialect, where)
    columns = [*names, "computed_at"]
    source = select(*statement.subquery().c, _bind_now(now))
    write = insert(MonthlyAggregate).from_select(columns, source)
    if months is None and dialect == "postgresql":
        async with emptied_with_indexes_after(session, MonthlyAggregate):
            result = await session.execute(write)
    else:
        await session.execute(remove)
        result = await session.execute(write)
    await rebuild_rollups(session, months)
    await _stamp(session, VERSION, now)
    return int(getattr(result, "rowcount", 0) or 0)


def _bind_now(now: datetime) -> Label[datetime]:
    return bindparam("computed_at", now, type_=UTCDateTime()).label("computed_at")


async def refresh_months(
    session: AsyncSession, months: Iterable[str], *, now: datetime | None = None
) -> RefreshResult:
    """Recompute the cells of ``months`` (in the caller's transaction)."""
    await _lock(session)
    return await _refresh_months(session, months, now or utcnow())


async def _refresh_months(
    session: AsyncSession, months: Iterable[str], now: datetime
) -> RefreshResult:
    wanted = sorted(set(months))
    if not wanted:
        return RefreshResult()
    cells = await _replace(session, wanted, now)
    return RefreshResult(months=wanted, cells=cells)


async def rebuild_all(session: AsyncSession, *, now: datetime | None = None) -> RefreshResult:
    """Recompute every month from the raw rows and move the watermark to ``now``."""
    await _lock(session)
    return await _rebuild_all(session, now or utcnow())


async def _rebuild_all(session: AsyncSession, now: datetime) -> RefreshResult:
    cells = await _replace(session, None, now)
    months = (
        await session.scalars(select(MonthlyAggregate.month).distinct().order_by("month"))
    ).all()
    await _set_watermark(session, now)
    return RefreshResult(months=list(months), cells=cells)


async def changed_feedback(session: AsyncSession, since: datetime) -> list[int]:
    """Ids of feedback that changed, got a tag or whose case moved after ``since``."""
    query = union(
        select(Feedback.id).where(Feedback.updated_at > since),
        select(Tag.feedback_id).where(Tag.created_at > since),
        select(Case.feedback_id).where(Case.updated_at > since),
    )
    return sorted((await session.scalars(query)).all())


async def _refresh_cells_of(
    session: AsyncSession, ids: Sequence[int], now: datetime
) -> RefreshResult:
    if not ids:
        return RefreshResult()
    listed = feedback_ids(ids, session.bind.dialect.name)
    months = sorted(
        (
            await session.scalars(select(Feedback.month).where(Feedback.id.in_(listed)).distinct())
        ).all()
    )
    if len(ids) > CELL_REFRESH_LIMIT:
        return await _refresh_months(session, months, now)
    cells = await _replace(session, months, now, cells_of(listed))
    return RefreshResult(months=months, cells=cells)


async def refresh_changed(
    session: AsyncSession,
    *,
    now: datetime | None = None,
    overlap: timedelta = timedelta(minutes=10),
) -> RefreshResult:
    """Refresh the cells changed since the watermark; the first run rebuilds everything."""
    now = now or utcnow()
    await _lock(session)
    mark = await session.get(AggregateWatermark, WATERMARK)
    if mark is None:
        return await _rebuild_all(session, now)
    result = await _refresh_cells_of(
        session, await changed_feedback(session, mark.seen_until - overlap), now
    )
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
