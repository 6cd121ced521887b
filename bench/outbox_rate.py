"""Outbox delivery rate to the Bot API emulator with Telegram's limits switched on.

The emulator answers 429 when more than 30 messages a second (or more than one a second to one
chat) arrive; the worker should deliver at the configured limit without tripping it. With
``--workers`` above 1, that many outbox workers share the limit through Redis send slots.

    uv run python -m bench.outbox_rate [--messages 600] [--chats 200] [--workers 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from bench._common import throwaway_database
from bot.coordination.redis_backend import RedisSendSlots
from bot.coordination.setup import open_redis
from bot.outbox import OutboxWorker, RateLimiter
from bot.telegram.client import create_bot
from bot.telegram.sender import TelegramSender
from storage.models import Channel, OutboxMessage, OutboxStatus
from storage.uow import UnitOfWork
from tests.outbox.running import stop_outbox_workers

EMULATOR = Path(__file__).resolve().parent.parent / "tests" / "e2e" / "emulator.js"
REDIS_URL = "redis://127.0.0.1:6379/0"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _call(base: str, path: str, body: dict[str, object] | None = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        base + path, data=data, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # loopback only
        return json.loads(response.read())["result"]


async def run(
    base: str, messages: int, chats: int, rate: float, backend: str, workers: int
) -> None:
    _call(base, "/_test/reset", {})
    _call(base, "/_test/limits", {"global_per_second": 30, "per_chat_interval": 1})
    prefix = f"pikir-bench:{secrets.token_hex(4)}:"
    clients = [open_redis(REDIS_URL) for _ in range(workers)] if workers > 1 else []
    async with throwaway_database(backend) as database:
        async with UnitOfWork(database.sessions) as uow:
            for index in range(messages):
                uow.outbox.enqueue(
                    channel=Channel.TELEGRAM,
                    address=str(1000 + index % chats),
                    kind="reply",
                    text=f"Answer number {index}",
                )
            await uow.commit()
        bots = [create_bot("123456:BENCH", base) for _ in range(workers)]
        outbox_workers = [
            OutboxWorker(
                database.sessions,
                {"telegram": TelegramSender(bot)},
                RedisSendSlots(clients[index], prefix, rate, 1.0)
                if clients
                else RateLimiter(rate, 1.0),
                batch_size=20 if clients else 120,  # several: each takes turns at the queue
            )
            for index, bot in enumerate(bots)
        ]
        started = time.perf_counter()
        tasks = [asyncio.create_task(worker.run()) for worker in outbox_workers]
        while True:
            await asyncio.sleep(0.2)
            async with UnitOfWork(database.sessions) as uow:
                rows = (
                    await uow.session.scalars(
                        OutboxMessage.__table__.select()
                        .with_only_columns(OutboxMessage.status)
                        .where(OutboxMessage.status != OutboxStatus.SENT)
                    )
                ).all()
            if not rows:
                break
        elapsed = time.perf_counter() - started
        await stop_outbox_workers(tasks, bots)
    for client in clients:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
    stats = _call(base, "/_test/stats")
    assert isinstance(stats, dict)
    times = sorted(entry["at"] for entry in stats["log"])
    accepted = (len(times) - 1) / ((times[-1] - times[0]) / 1000)
    print(
        f"{backend:10s} {workers} worker(s): {messages} messages to {chats} chats in "
        f"{elapsed:5.1f}s: {messages / elapsed:5.1f} msg/s overall, {accepted:5.1f} msg/s from "
        f"the first accepted to the last (limit {rate:.0f}/s), "
        f"429 answers: {stats['rejected429']}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    port = _free_port()
    emulator = subprocess.Popen(
        ["node", str(EMULATOR), str(port)], stdout=subprocess.PIPE, text=True
    )
    assert emulator.stdout is not None and "ready" in emulator.stdout.readline()
    try:
        base = f"http://127.0.0.1:{port}"
        asyncio.run(run(base, args.messages, args.chats, args.rate, args.backend, args.workers))
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)


if __name__ == "__main__":
    main()
