"""The scheduler on one worker of several: the holder of the ``scheduler`` lease runs it, the
others stand by, and when the holder's connection ends (its process killed, the database
restarted) another worker takes the scheduler at its next try and the old holder pauses."""

from __future__ import annotations

import asyncio

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING, STATE_STOPPED
from sqlalchemy import text

from bot.scheduling import SchedulerHandover
from storage.database import Database
from storage.process_lease import ProcessLease


async def _nothing() -> None:
    """A job that never comes due in the test."""


def _worker(database: Database) -> tuple[SchedulerHandover, AsyncIOScheduler, list[str]]:
    """A worker's scheduler and its handover; the list notes each time its jobs were added."""
    scheduler = AsyncIOScheduler()
    registered: list[str] = []

    def register() -> None:
        scheduler.add_job(_nothing, "interval", hours=1, id="aggregate")
        registered.append("aggregate")

    return (
        SchedulerHandover(scheduler, ProcessLease(database, "scheduler"), register),
        scheduler,
        registered,
    )


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_one_worker_schedules_and_another_takes_over_when_its_connection_ends(
    database: Database,
) -> None:
    first, first_scheduler, first_jobs = _worker(database)
    second, second_scheduler, second_jobs = _worker(database)
    try:
        await first.step()
        await second.step()
        assert (first.holding, second.holding) == (True, False)
        assert (first_scheduler.state, second_scheduler.state) == (STATE_RUNNING, STATE_STOPPED)

        # What a killed worker's connection does: it ends, and the advisory lock with it.
        async with database.sessions() as session:
            ended = await session.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND pid <> pg_backend_pid() "
                    "AND database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database())"
                )
            )
        assert ended == 1

        # The server ends the backend a moment later; the second's next tries take the lease.
        for _ in range(50):
            await second.step()
            if second.holding:
                break
            await asyncio.sleep(0.2)
        assert second.holding and second_scheduler.state == STATE_RUNNING
        # The old holder learns at its next try that the lease is gone, and stops scheduling.
        await first.step()
        assert not first.holding and first_scheduler.state == STATE_PAUSED
        await first.step()
        assert not first.holding  # the lease is the second's now
        assert (first_jobs, second_jobs) == (["aggregate"], ["aggregate"])

        # A clean stop gives the lease back at once; the first resumes, without adding twice.
        await second.stop()
        await first.step()
        assert first.holding and first_scheduler.state == STATE_RUNNING
        assert first_jobs == ["aggregate"]
    finally:
        await first.stop()
        await second.stop()


async def test_a_lone_worker_schedules_at_once(database: Database) -> None:
    handover, scheduler, jobs = _worker(database)
    try:
        await handover.step()
        assert handover.holding and scheduler.state == STATE_RUNNING and jobs == ["aggregate"]
    finally:
        await handover.stop()
    await asyncio.sleep(0)  # the scheduler stops in the loop's next turn
    assert scheduler.state == STATE_STOPPED
