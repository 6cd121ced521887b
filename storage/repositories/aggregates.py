"""Reading the stored figures: sums over months by region, office, service or month.

The report reads the monthly roll-ups (a month's cells summed by office and by service), never
the tens of thousands of cells themselves. Only counts are summed (never shares or medians), so
every roll-up is exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CELL_COUNTS, AggregateWatermark, MonthlyRollup

SUMMABLE = CELL_COUNTS
# The keys each roll-up level can be grouped by.
LEVEL_KEYS: dict[str, frozenset[str]] = {
    "office": frozenset({"month", "region_code", "office_code"}),
    "service": frozenset({"month", "service_code"}),
}


class AggregateRepository:
    """Sums of the stored roll-ups; the figures module turns them into shares."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def months(self) -> list[str]:
        """Months that have figures, oldest first."""
        query = select(MonthlyRollup.month).distinct().order_by(MonthlyRollup.month)
        return list((await self.session.scalars(query)).all())

    async def totals(
        self,
        months: Sequence[str],
        by: Sequence[str] = (),
        columns: Sequence[str] = SUMMABLE,
    ) -> list[dict[str, Any]]:
        """The summable ``columns`` over ``months``, grouped by the key columns ``by``.

        Grouping by a service reads the service roll-ups; anything else (nothing, month,
        region, office) the office roll-ups, which hold every feedback row once.
        """
        unknown = [name for name in columns if name not in SUMMABLE]
        level = "service" if "service_code" in by else "office"
        unknown += [key for key in by if key not in LEVEL_KEYS[level]]
        if unknown:
            raise ValueError(f"unknown or mixed aggregate columns {unknown}")
        keys = [getattr(MonthlyRollup, key) for key in by]
        sums = [
            func.coalesce(func.sum(getattr(MonthlyRollup, name)), 0).label(name) for name in columns
        ]
        query = (
            select(*keys, *sums)
            .where(MonthlyRollup.level == level, MonthlyRollup.month.in_(list(months)))
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
