"""The workers' heartbeat rows: each worker upserts its own and reads the others'."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import WorkerHeartbeat


class HeartbeatRepository:
    """Beats, lists and removes worker rows."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def beat(
        self, worker: str, *, started_at: datetime, now: datetime, shares_redis: bool
    ) -> None:
        """Insert or refresh ``worker``'s row (one statement, so beats never conflict)."""
        dialect = self.session.bind.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(WorkerHeartbeat).values(
            worker=worker, started_at=started_at, seen_at=now, shares_redis=shares_redis
        )
        statement = statement.on_conflict_do_update(
            index_elements=[WorkerHeartbeat.worker],
            set_={"seen_at": now, "shares_redis": shares_redis},
        )
        await self.session.execute(statement)

    async def others_alive(self, worker: str, since: datetime) -> Sequence[WorkerHeartbeat]:
        """The other workers seen at or after ``since``."""
        rows = await self.session.scalars(
            select(WorkerHeartbeat)
            .where(WorkerHeartbeat.worker != worker, WorkerHeartbeat.seen_at >= since)
            .order_by(WorkerHeartbeat.worker)
        )
        return rows.all()

    async def forget(self, worker: str) -> None:
        """Remove ``worker``'s row (a clean exit)."""
        await self.session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker == worker))

    async def forget_silent(self, before: datetime) -> int:
        """Remove rows of workers not seen since ``before`` (they died); how many."""
        result = await self.session.execute(
            delete(WorkerHeartbeat).where(WorkerHeartbeat.seen_at < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)
