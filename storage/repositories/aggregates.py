"""Reading the stored monthly aggregates: sums over months and roll-ups by region, office, service.

Only counts are summed (never shares or medians), so every roll-up is exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AggregateWatermark, MonthlyAggregate

KEY_COLUMNS = ("month", "region_code", "office_code", "service_code", "channel", "language")
SUMMABLE: tuple[str, ...] = tuple(
    column.name
    for column in MonthlyAggregate.__table__.columns
    if column.name not in {"id", "computed_at", "first_action_seconds_median", *KEY_COLUMNS}
)


class AggregateRepository:
    """Sums of the stored cells; the figures module turns them into shares."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def months(self) -> list[str]:
        """Months that have aggregates, oldest first."""
        query = select(MonthlyAggregate.month).distinct().order_by(MonthlyAggregate.month)
        return list((await self.session.scalars(query)).all())

    async def totals(
        self,
        months: Sequence[str],
        by: Sequence[str] = (),
        columns: Sequence[str] = SUMMABLE,
    ) -> list[dict[str, Any]]:
        """The summable ``columns`` over ``months``, grouped by the key columns ``by``."""
        unknown = [key for key in (*by, *columns) if key not in (*KEY_COLUMNS, *SUMMABLE)]
        if unknown:
            raise ValueError(f"unknown aggregate columns {unknown}")
        keys = [getattr(MonthlyAggregate, key) for key in by]
        sums = [
            func.coalesce(func.sum(getattr(MonthlyAggregate, name)), 0).label(name)
            for name in columns
        ]
        query = (
            select(*keys, *sums)
            .where(MonthlyAggregate.month.in_(list(months)))
            .group_by(*keys)
            .order_by(*keys)
        )
        rows = (await self.session.execute(query)).mappings().all()
        result = [dict(row) for row in rows]
        if not by and result and not any(result[0].values()):
            return []
        return result

    async def version(self) -> datetime | None:
        """When the aggregates last changed (any refresh), to key caches of what is read."""
        mark = await self.session.get(AggregateWatermark, "version")
        return mark.seen_until if mark else None

    async def cells(self, month: str) -> Sequence[MonthlyAggregate]:
        """The stored cells of one month."""
        query = (
            select(MonthlyAggregate)
            .where(MonthlyAggregate.month == month)
            .order_by(*(getattr(MonthlyAggregate, key) for key in KEY_COLUMNS))
        )
        return (await self.session.scalars(query)).all()
