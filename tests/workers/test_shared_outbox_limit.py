"""Three outbox workers on one database and one Redis send within one limit together.

Each worker alone kept the configured rate, so several sent at a multiple of it and Telegram
answered 429. The emulator enforces Telegram's limits here (30 a second, one a second per chat)
and the workers run with the default setting: no 429, and nearly the whole allowance is used.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.coordination.redis_backend import RedisSendSlots
from bot.coordination.setup import open_redis
from bot.outbox import OutboxWorker
from bot.settings import TelegramSettings
from bot.telegram.client import create_bot
from bot.telegram.sender import TelegramSender
from storage.database import Database
from storage.models import Channel, OutboxMessage, OutboxStatus
from storage.uow import UnitOfWork
from tests.coordination.conftest import REDIS_URL
from tests.outbox.running import stop_outbox_workers

pytestmark = pytest.mark.e2e
LIMIT = 30  # what the emulator enforces, as Telegram does
DEFAULTS = TelegramSettings()
WORKERS = 3
# Ten seconds at the limit, two messages per chat: both limits are met.
MESSAGES = 300
CHATS = 150


class Deliveries:
    """Counts one worker's delivery results."""

    def __init__(self) -> None:
        self.results: Counter[str] = Counter()

    def delivery(self, channel: str, result: str) -> None:
        self.results[result] += 1


async def _emulator(session: aiohttp.ClientSession, base: str, path: str, body: Any = None) -> Any:
    if body is None:
        async with session.get(base + path) as response:
            return (await response.json())["result"]
    async with session.post(base + path, json=body) as response:
        return (await response.json())["result"]


async def _unsent(database: Database) -> int:
    async with database.sessions() as session:
        statement = select(func.count()).where(OutboxMessage.status != OutboxStatus.SENT)
        return int(await session.scalar(statement) or 0)


async def _delivered(database: Database) -> None:
    """Return once every row is sent (polled: the rows are the only shared signal)."""
    unsent = await _unsent(database)
    while unsent:
        await asyncio.sleep(0.2)
        unsent = await _unsent(database)


# Several workers need PostgreSQL: its SKIP LOCKED claims give each row to one worker.
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_three_workers_sharing_redis_keep_telegrams_limits_at_the_default_setting(
    database: Database, emulator: str, prefix: str
) -> None:
    async with aiohttp.ClientSession() as session:
        await _emulator(session, emulator, "/_test/reset", {})
        await _emulator(
            session,
            emulator,
            "/_test/limits",
            {"global_per_second": LIMIT, "per_chat_interval": 1},
        )
        async with UnitOfWork(database.sessions) as uow:
            for index in range(MESSAGES):
                uow.outbox.enqueue(
                    channel=Channel.TELEGRAM,
                    address=str(1000 + index % CHATS),
                    kind="reply",
                    text=f"Answer {index}",
                )
            await uow.commit()
        bots = [
            create_bot(f"123456:SHARED{secrets.token_hex(3)}", emulator) for _ in range(WORKERS)
        ]
        clients = [open_redis(REDIS_URL) for _ in range(WORKERS)]
        observers = [Deliveries() for _ in range(WORKERS)]
        workers = [
            OutboxWorker(
                database.sessions,
                {"telegram": TelegramSender(bot)},
                RedisSendSlots(
                    client, prefix, DEFAULTS.rate_per_second, DEFAULTS.per_chat_interval
                ),
                batch_size=20,  # small batches, so every worker takes turns at the queue
                observer=observer,
            )
            for bot, client, observer in zip(bots, clients, observers, strict=True)
        ]
        tasks = [asyncio.create_task(worker.run()) for worker in workers]
        try:
            async with asyncio.timeout(60):
                await _delivered(database)
        finally:
            await stop_outbox_workers(tasks, bots)
            for client in clients:
                await client.aclose()
        stats = await _emulator(session, emulator, "/_test/stats")
    times = sorted(entry["at"] for entry in stats["log"])
    assert stats["rejected429"] == 0, [t - times[0] for t in times]  # ms since the first
    assert [observer.results["throttled"] for observer in observers] == [0] * WORKERS
    assert all(observer.results["sent"] > 0 for observer in observers)  # each took part
    assert sum(observer.results["sent"] for observer in observers) == MESSAGES
    # No second of the run held more than the limit (what the emulator also checked).
    assert max(sum(1 for t in times if start <= t < start + 1000) for start in times) <= LIMIT
    # Messages per second from the first accepted to the last: within 10 % of the limit.
    rate = (len(times) - 1) / ((times[-1] - times[0]) / 1000)
    assert LIMIT * 0.9 <= rate <= LIMIT * 1.1, rate
