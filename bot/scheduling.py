"""One scheduler among several workers: the worker holding the ``scheduler`` lease runs the jobs.

The lease is a PostgreSQL advisory lock on a connection of its own: a worker killed outright
loses the connection and with it the lease, and the others, each trying every
``takeover_seconds``, start their scheduler within about that long. Each run is still claimed
by its own row before it starts, so even two schedulers for a moment would not run a job twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.exc import DBAPIError

from storage.process_lease import ProcessLease

log = structlog.get_logger("pikir.scheduler")


class SchedulerHandover:
    """Runs ``scheduler`` while this worker holds ``lease``, pauses it when the lease is lost."""

    def __init__(
        self, scheduler: AsyncIOScheduler, lease: ProcessLease, register: Callable[[], object]
    ) -> None:
        self._scheduler = scheduler
        self._lease = lease
        self._register = register
        self._holding = False

    @property
    def holding(self) -> bool:
        """Whether this worker runs the scheduled jobs now."""
        return self._holding

    async def step(self) -> None:
        """Take the lease if it is free, or let the scheduler go if the lease was lost."""
        try:
            if self._holding:
                if not await self._lease.still_held():
                    self._holding = False
                    self._scheduler.pause()
                    log.warning("scheduler.lost", reason="the lease's connection ended")
            elif await self._lease.acquire():
                self._holding = True
                self._run()
        except (DBAPIError, OSError) as exc:  # the database is away: try again next time
            log.warning("scheduler.lease_unavailable", error=type(exc).__name__)

    def _run(self) -> None:
        if self._scheduler.running:
            self._scheduler.resume()
        else:
            self._register()
            self._scheduler.start()
        log.info("scheduler.started", jobs=[job.id for job in self._scheduler.get_jobs()])

    async def keep(self, every: float) -> None:
        """:meth:`step` every ``every`` seconds, for as long as the worker runs."""
        while True:
            await asyncio.sleep(every)
            await self.step()

    async def stop(self) -> None:
        """Stop the scheduler and give the lease back, for the next worker to take."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        await self._lease.release()
        self._holding = False


@contextlib.asynccontextmanager
async def scheduler_handover(handover: SchedulerHandover, every: float) -> AsyncIterator[None]:
    """Try for the scheduler at once, then every ``every`` seconds until the block ends."""
    await handover.step()
    task = asyncio.create_task(handover.keep(every))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await handover.stop()
