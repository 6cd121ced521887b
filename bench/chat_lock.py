"""What the per-chat lock costs an update: in process, and in Redis with and without the
ordering window; also Redis's shared send slots against the in-process limiter.

Each figure is one uncontended update's ``hold`` (acquire + release) of a fresh chat, timed
end to end, run one after the other so the figure is the lock's own cost, not queueing.

    uv run python -m bench.chat_lock [--updates 500] [--redis redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import time

from bot.coordination.memory import MemoryChatLocks
from bot.coordination.ports import ChatLocks
from bot.coordination.redis_backend import RedisChatLocks, RedisSendSlots
from bot.coordination.setup import open_redis
from bot.outbox.limiter import LocalSendSlots, RateLimiter
from bot.outbox.ports import SendSlots


async def _holds(locks: ChatLocks, updates: int) -> list[float]:
    took = []
    for n in range(updates):
        started = time.perf_counter()
        async with locks.hold(f"chat-{n}", 1000 + n):
            pass
        took.append(time.perf_counter() - started)
    return took


async def _reserves(slots: SendSlots, updates: int) -> list[float]:
    took = []
    for n in range(updates):
        started = time.perf_counter()
        await slots.reserve(f"chat-{n}")
        took.append(time.perf_counter() - started)
    return took


def _line(name: str, took: list[float]) -> str:
    ordered = sorted(took)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return (
        f"{name:<34} p50 {statistics.median(took) * 1000:8.3f} ms   "
        f"p95 {p95 * 1000:8.3f} ms   n={len(took)}"
    )


async def main(updates: int, url: str) -> None:
    prefix = f"pikir-bench:{secrets.token_hex(4)}:"
    client = open_redis(url)
    try:
        print(f"load average {os.getloadavg()}")
        print(_line("in-process lock", await _holds(MemoryChatLocks(), updates)))
        no_window = RedisChatLocks(client, f"{prefix}a:", window=0)
        print(_line("Redis lock, no ordering window", await _holds(no_window, updates)))
        for window in (0.03, 0.1):
            locks = RedisChatLocks(client, f"{prefix}w{window}:", window=window)
            took = await _holds(locks, max(50, updates // 10))
            print(_line(f"Redis lock, {int(window * 1000)} ms window", took))
        local = LocalSendSlots(RateLimiter(1_000_000, 0))
        print(_line("in-process send slot", await _reserves(local, updates)))
        shared = RedisSendSlots(client, f"{prefix}s:", 1_000_000, 0)
        print(_line("Redis send slot", await _reserves(shared, updates)))
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=500)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.updates, arguments.redis))
