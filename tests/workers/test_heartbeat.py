"""Workers' heartbeat rows on both databases: several workers see each other, warn once when
their limits are per process, and refuse to start without a shared secret key."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web
from sqlalchemy import func, select
from structlog.testing import capture_logs

from bot.heartbeat import SeveralWorkersRefused, heartbeat_context
from storage.database import Database
from storage.models import WorkerHeartbeat
from storage.types import utcnow


@contextlib.asynccontextmanager
async def running(
    database: Database, *, shares_redis: bool = False, secret_key_set: bool = True
) -> AsyncIterator[None]:
    """A worker's heartbeat for the block, as ``cleanup_ctx`` runs it."""
    context = heartbeat_context(
        database, shares_redis=shares_redis, secret_key_set=secret_key_set, interval=0.2
    )
    steps = context(web.Application())
    await steps.__anext__()
    try:
        yield
    finally:
        with contextlib.suppress(StopAsyncIteration):
            await steps.__anext__()


async def _rows(database: Database) -> int:
    async with database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(WorkerHeartbeat)) or 0)


async def test_a_second_worker_without_redis_warns_once_that_limits_are_per_process(
    database: Database,
) -> None:
    with capture_logs() as logs:
        async with running(database), running(database):
            assert await _rows(database) == 2
    warnings = [entry for entry in logs if entry["event"] == "workers.limits_per_process"]
    assert len(warnings) >= 1
    # Once per worker at most, however many beats: the first worker learns at a later beat.
    assert len(warnings) <= 2
    assert "PIKIR_REDIS__URL" in warnings[0]["hint"]
    assert await _rows(database) == 0  # clean exits remove their rows


async def test_workers_sharing_redis_do_not_warn(database: Database) -> None:
    with capture_logs() as logs:
        async with running(database, shares_redis=True), running(database, shares_redis=True):
            pass
    assert not [entry for entry in logs if entry["event"] == "workers.limits_per_process"]


async def test_a_worker_without_the_secret_key_beside_another_refuses_to_start(
    database: Database,
) -> None:
    async with running(database):
        with pytest.raises(SeveralWorkersRefused, match="PIKIR_SECURITY__SECRET_KEY"):
            async with running(database, secret_key_set=False):
                pytest.fail("started without the shared secret key")


async def test_a_lone_worker_without_the_secret_key_starts(database: Database) -> None:
    async with running(database, secret_key_set=False):
        assert await _rows(database) == 1


async def test_a_dead_workers_row_does_not_count_and_is_removed_after_an_hour(
    database: Database,
) -> None:
    async with database.sessions() as session:
        # What killed workers leave: rows that stopped being refreshed.
        for worker, silent in (
            ("gone:1:abc", timedelta(minutes=1)),
            ("gone:2:def", timedelta(hours=2)),
        ):
            session.add(
                WorkerHeartbeat(
                    worker=worker,
                    started_at=utcnow() - timedelta(hours=3),
                    seen_at=utcnow() - silent,
                    shares_redis=False,
                )
            )
        await session.commit()
    with capture_logs() as logs:
        async with running(database, secret_key_set=False), database.sessions() as session:
            workers = set(await session.scalars(select(WorkerHeartbeat.worker)))
    assert "gone:1:abc" in workers and "gone:2:def" not in workers
    assert not [entry for entry in logs if entry["event"] == "workers.limits_per_process"]
