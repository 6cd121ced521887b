"""The worker's heartbeat: a row per running worker, so workers know when they are several.

Every few seconds a worker refreshes its row and reads the others'. Seeing another live worker
it logs once that its limits are per process when Redis is not configured; started without
``PIKIR_SECURITY__SECRET_KEY`` beside a live worker it refuses to start, since each would
otherwise sign cookies and pseudonyms with a key of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

import structlog
from aiohttp import web

from bot.outage import outage_of
from storage.database import Database
from storage.types import utcnow
from storage.uow import UnitOfWork

log = structlog.get_logger("pikir.heartbeat")


class SeveralWorkersRefused(Exception):
    """This worker may not run beside the others as configured; the message is one line."""


def heartbeat_context(
    database: Database,
    *,
    shares_redis: bool,
    secret_key_set: bool,
    interval: float = 5.0,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A ``cleanup_ctx`` that keeps this worker's row fresh while the application runs.

    A worker counts as live while its row is younger than four intervals; rows of workers
    silent for an hour are removed by whoever beats next.
    """
    worker = f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"
    alive_for = timedelta(seconds=interval * 4)
    warned = False

    async def beat(started: datetime) -> list[str]:
        now = utcnow()
        async with UnitOfWork(database.sessions) as uow:
            await uow.heartbeats.beat(
                worker, started_at=started, now=now, shares_redis=shares_redis
            )
            await uow.heartbeats.forget_silent(now - timedelta(hours=1))
            others = await uow.heartbeats.others_alive(worker, now - alive_for)
            await uow.commit()
        return [row.worker for row in others]

    def judge(others: list[str]) -> None:
        nonlocal warned
        if not others or warned:
            return
        warned = True
        if not shares_redis:
            log.warning(
                "workers.limits_per_process",
                others=others,
                hint="several workers share this database without PIKIR_REDIS__URL: each "
                "keeps its own rate limits and chat locks",
            )
        if not secret_key_set:
            log.error(
                "workers.secret_key_missing",
                others=others,
                hint="set one PIKIR_SECURITY__SECRET_KEY for every worker",
            )

    async def context(app: web.Application) -> AsyncIterator[None]:
        started = utcnow()
        others = await beat(started)
        if others and not secret_key_set:
            raise SeveralWorkersRefused(
                f"another worker runs on this database ({others[0]}): several workers need "
                "the same PIKIR_SECURITY__SECRET_KEY, and it is not set"
            )
        judge(others)

        async def keep_beating() -> None:
            while True:
                await asyncio.sleep(interval)
                try:
                    judge(await beat(started))
                except Exception as exc:  # the database may be briefly away; the next beat retries
                    unavailable = outage_of(exc)
                    if unavailable is None:
                        log.warning("heartbeat.failed", exc_info=True)
                    else:
                        log.warning("heartbeat.failed", unavailable=unavailable)

        task = asyncio.create_task(keep_beating(), name="heartbeat")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        with contextlib.suppress(Exception):  # a dead database: the row ages out instead
            async with UnitOfWork(database.sessions) as uow:
                await uow.heartbeats.forget(worker)
                await uow.commit()

    return context
