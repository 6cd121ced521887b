"""Outbox workers as ``pikir serve`` processes sending to the Bot API emulator, as a deployment
runs them: the settings they share, the queue filled behind their backs, and what each sent.

Used by ``test_shared_outbox_limit.py`` and ``bench/outbox_rate.py``. The emulator enforces
Telegram's limits (``LIMIT`` messages a second, one a second per chat); the workers keep the
default rate settings.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.request
from pathlib import Path

from sqlalchemy import func, select

from storage.database import Database
from storage.models import Channel, OutboxMessage, OutboxStatus
from storage.uow import UnitOfWork
from tests.deploy.harness import WorkerProcess, shared_settings

LIMIT = 30  # what the emulator enforces, as Telegram does
# Every worker of one deployment uses the one bot token.
TOKEN = "123456:OUTBOX"
WEBHOOK_SECRET = "a-webhook-secret-of-some-length"
_COUNTER = re.compile(r'^pikir_outbox_(sent|failed|throttled)_total\{channel="telegram"\} (\S+)$')


def outbox_settings(
    database_url: str, data_dir: Path, emulator: str, redis_prefix: str | None, webhook: int
) -> dict[str, str]:
    """Settings of workers sharing ``database_url`` (and Redis under ``redis_prefix``; None:
    no Redis, as one worker alone runs) with Telegram at ``emulator``, in webhook mode (as
    several workers must be) with the webhook on the worker on port ``webhook``."""
    settings = shared_settings(database_url, data_dir, redis=redis_prefix is not None)
    if redis_prefix is not None:
        settings["PIKIR_REDIS__PREFIX"] = redis_prefix
    return settings | {
        "PIKIR_TELEGRAM__TOKEN": TOKEN,
        "PIKIR_TELEGRAM__API_URL": emulator,
        "PIKIR_TELEGRAM__MODE": "webhook",
        "PIKIR_TELEGRAM__WEBHOOK_URL": f"http://127.0.0.1:{webhook}/telegram/webhook",
        "PIKIR_TELEGRAM__WEBHOOK_SECRET": WEBHOOK_SECRET,
        # Neither sends anything here, and both cost start-up time on a loaded machine.
        "PIKIR_CLASSIFIER__ENABLED": "false",
        "PIKIR_SCHEDULER__ENABLED": "false",
        # A 429 is logged as a warning: it shows in the workers' output when the test fails.
        "PIKIR_LOG_LEVEL": "WARNING",
    }


def emulator_call(base: str, path: str, body: dict[str, object] | None = None) -> object:
    """GET ``path`` of the emulator (POST ``body`` when given); the answer's result."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        base + path, data=data, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # loopback only
        return json.loads(response.read())["result"]


def limit_emulator(base: str) -> None:
    """Forget earlier tests' messages and switch Telegram's limits on."""
    emulator_call(base, "/_test/reset", {})
    emulator_call(base, "/_test/limits", {"global_per_second": LIMIT, "per_chat_interval": 1})


def reply_text(index: int) -> str:
    return f"Answer {index}"


async def enqueue_replies(database_url: str, messages: int, chats: int) -> None:
    """``messages`` replies, in one transaction, to ``chats`` chats in turn (ids 1000 on)."""
    database = Database(database_url)
    try:
        async with UnitOfWork(database.sessions) as uow:
            for index in range(messages):
                uow.outbox.enqueue(
                    channel=Channel.TELEGRAM,
                    address=str(1000 + index % chats),
                    kind="reply",
                    text=reply_text(index),
                )
            await uow.commit()
    finally:
        await database.dispose()


async def wait_delivered(database_url: str, within: float) -> float:
    """Seconds until no message is left unsent (polled: the rows are the only shared signal)."""
    database = Database(database_url)
    statement = select(func.count()).where(OutboxMessage.status != OutboxStatus.SENT)
    started = time.perf_counter()
    try:
        async with asyncio.timeout(within):
            while True:
                async with database.sessions() as session:
                    if not await session.scalar(statement):
                        return time.perf_counter() - started
                await asyncio.sleep(0.2)
    finally:
        await database.dispose()


def deliveries(worker: WorkerProcess) -> dict[str, int]:
    """The worker's own Telegram delivery counters (``sent``, ``failed``, ``throttled``), read
    from its ``/metrics``."""
    url = f"http://127.0.0.1:{worker.port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    counts = {"sent": 0, "failed": 0, "throttled": 0}
    for line in text.splitlines():
        found = _COUNTER.match(line)
        if found is not None:
            counts[found.group(1)] = int(float(found.group(2)))
    return counts


def busiest_second(times: list[int]) -> int:
    """The most sends (``times`` in ms) in any one second starting at a send."""
    return max(sum(1 for t in times if start <= t < start + 1000) for start in times)


def accepted_rate(times: list[int]) -> float:
    """Messages a second from the first accepted send to the last (``times`` sorted, in ms)."""
    return (len(times) - 1) / ((times[-1] - times[0]) / 1000)
