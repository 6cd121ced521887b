"""Keeping the monthly roll-ups (a month's cells summed by office and by service) in step.

Every refresh rewrites the roll-ups of the months it touched from their stored cells, with one
``GROUP BY`` per level: summing a month's cells costs a fraction of recomputing them, and
moving the roll-ups by the changed cells only (old counts off, new ones on) measured slower.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, delete, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.models import CELL_COUNTS, MonthlyAggregate, MonthlyRollup

# Each level: the cell columns it is grouped by, and the key columns it leaves empty.
LEVELS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "office": (("month", "region_code", "office_code"), ("service_code",)),
    "service": (("month", "service_code"), ("region_code", "office_code")),
}


def _sums_by(level: str, where: Sequence[ColumnElement[bool]]) -> Select[Any]:
    grouped, empty = LEVELS[level]
    keys = [getattr(MonthlyAggregate, name) for name in grouped]
    sums = [func.sum(getattr(MonthlyAggregate, name)).label(name) for name in CELL_COUNTS]
    blanks = [literal("").label(name) for name in empty]
    return (
        select(*keys, literal(level).label("level"), *blanks, *sums).where(*where).group_by(*keys)
    )


def _columns(level: str) -> list[str]:
    grouped, empty = LEVELS[level]
    return [*grouped, "level", *empty, *CELL_COUNTS]


async def rebuild_rollups(session: AsyncSession, months: list[str] | None) -> None:
    """Rewrite the roll-ups of ``months`` (None: every month) from their stored cells."""
    remove = delete(MonthlyRollup)
    where = [] if months is None else [MonthlyAggregate.month.in_(months)]
    if months is not None:
        remove = remove.where(MonthlyRollup.month.in_(months))
    await session.execute(remove)
    for level in LEVELS:
        source = _sums_by(level, where)
        await session.execute(insert(MonthlyRollup).from_select(_columns(level), source))
