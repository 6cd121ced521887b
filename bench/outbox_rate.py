"""Outbox delivery rate to the Bot API emulator with Telegram's limits switched on.

The emulator answers 429 when more than 30 messages a second (or more than one a second to one
chat) arrive; the workers should deliver at the configured limit without tripping it. Each
worker is a ``pikir serve`` process, as deployed (webhook mode, the emulator as Telegram): one
alone keeps the limit in its own memory, several (``--workers`` above 1, PostgreSQL only) share
it through Redis send slots. The messages are queued once every worker is ready.

    uv run python -m bench.outbox_rate [--messages 600] [--chats 200] [--workers 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from bench._common import DEFAULT_PG, run_on_server
from bot.coordination.setup import open_redis
from tests.coordination.conftest import REDIS_URL
from tests.deploy.harness import WorkerProcess, free_port, start_workers, stop_all
from tests.workers.outbox_processes import (
    accepted_rate,
    busiest_second,
    deliveries,
    emulator_call,
    enqueue_replies,
    limit_emulator,
    outbox_settings,
    wait_delivered,
)

EMULATOR = Path(__file__).resolve().parent.parent / "tests" / "e2e" / "emulator.js"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@asynccontextmanager
async def empty_database(backend: str, directory: Path) -> AsyncIterator[str]:
    """The URL of a database with nothing in it (the first worker migrates), dropped after."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / 'bench.db'}"
        return
    base = os.environ.get("PIKIR_BENCH_POSTGRES_URL", DEFAULT_PG)
    name = f"pikir_bench_outbox_{secrets.token_hex(4)}"
    await run_on_server(base, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        await run_on_server(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def cpu_seconds(workers: list[WorkerProcess]) -> float:
    """CPU the worker processes used so far (user and system, from /proc)."""
    total = 0
    for worker in workers:
        fields = Path(f"/proc/{worker.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


async def forget_prefix(prefix: str) -> None:
    """Delete the run's keys from Redis."""
    client = open_redis(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def run(
    base: str, messages: int, chats: int, rate: float, backend: str, workers: int
) -> None:
    limit_emulator(base)
    prefix = f"pikir-bench:{secrets.token_hex(4)}:" if workers > 1 else None
    with tempfile.TemporaryDirectory() as tmp:
        async with empty_database(backend, Path(tmp)) as url:
            ports = [free_port() for _ in range(workers)]
            settings = outbox_settings(url, Path(tmp) / "shared", base, prefix, ports[0])
            settings["PIKIR_TELEGRAM__RATE_PER_SECOND"] = str(rate)
            running = await asyncio.to_thread(start_workers, ports, settings, Path(tmp) / "logs")
            try:
                load = f"{os.getloadavg()[0]:.2f}"
                cpu_before = cpu_seconds(running)
                await enqueue_replies(url, messages, chats)
                elapsed = await wait_delivered(url, within=30 + 3 * messages / rate)
                cpu = cpu_seconds(running) - cpu_before
                sent = [deliveries(worker)["sent"] for worker in running]
            finally:
                stop_all(running)
                if prefix is not None:
                    await forget_prefix(prefix)
    stats = emulator_call(base, "/_test/stats")
    assert isinstance(stats, dict)
    times = sorted(entry["at"] for entry in stats["log"])
    print(
        f"{backend} {workers} worker process(es), load average {load}: {messages} messages to "
        f"{chats} chats in {elapsed:.1f}s ({messages / elapsed:.1f} msg/s overall), "
        f"{accepted_rate(times):.1f} msg/s from the first accepted to the last "
        f"(limit {rate:.0f}/s), busiest second {busiest_second(times)}, "
        f"429 answers: {stats['rejected429']}, sent by each: {sent}, "
        f"workers' CPU {cpu:.2f}s ({cpu / messages * 1000:.2f} ms a message)",
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
    if args.workers > 1 and args.backend != "postgresql":
        parser.error("several workers need PostgreSQL")
    port = free_port()
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
