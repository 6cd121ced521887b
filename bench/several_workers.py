"""Telegram updates per second through nginx in front of 1, 2 and 3 ``pikir serve`` workers.

This process plays Telegram: it posts webhook updates (``/start`` from new chats, with the
secret header, several connections at once) to the shipped nginx site, and serves the Bot API
the workers call, noting when each chat's reply arrives. Per worker count: updates per second
(first update sent to last reply received), p50/p95 update-to-reply latency, and the workers'
CPU seconds per update (from /proc; nginx's own CPU is not counted). Each run uses a fresh
PostgreSQL database; the outbox's sending limit is raised to its maximum (1000/s) so that the
service, not the configured Telegram limit, is measured.

    uv run python -m bench.several_workers [--workers 1 2 3] [--updates 600] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy.engine import make_url

from bench._common import DEFAULT_PG, run_on_server
from tests.deploy.harness import Nginx, free_port, start_workers, stop_all

SECRET = "a-webhook-secret-for-the-benchmark"
TOKEN = "123456:BENCH"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class FakeTelegram:
    """The Bot API as the workers see it: accepts every call, times each chat's first reply."""

    def __init__(self) -> None:
        self.replied: dict[int, float] = {}
        self.waiters: dict[int, asyncio.Future[float]] = {}
        self._ids = itertools.count(1)

    async def call(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        payload: dict[str, Any] = {}
        if request.content_type == "application/json":
            payload = await request.json()
        elif request.can_read_body:
            payload = dict(await request.post())
        if method != "sendMessage":
            return web.json_response({"ok": True, "result": True})
        chat_id = int(payload["chat_id"])
        now = time.perf_counter()
        if chat_id not in self.replied:
            self.replied[chat_id] = now
            waiter = self.waiters.get(chat_id)
            if waiter is not None and not waiter.done():
                waiter.set_result(now)
        message = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "text": str(payload.get("text", "")),
        }
        return web.json_response({"ok": True, "result": message})


def _update(update_id: int, chat_id: int) -> dict[str, Any]:
    person = {"id": chat_id, "is_bot": False, "first_name": "Bench", "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": person,
            "text": "/start",
            "entities": [{"offset": 0, "length": 6, "type": "bot_command"}],
        },
    }


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


async def _run(workers: int, updates: int, connections: int, base_pg: str) -> dict[str, float]:
    telegram = FakeTelegram()
    api = web.Application()
    api.router.add_post("/bot{token}/{method}", telegram.call)
    runner = web.AppRunner(api, access_log=None)
    await runner.setup()
    api_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", api_port).start()

    name = f"pikir_bench_workers_{os.getpid()}_{workers}"
    await run_on_server(base_pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await run_on_server(base_pg, f'CREATE DATABASE "{name}"')
    url = make_url(base_pg).set(database=name).render_as_string(hide_password=False)
    ports = [free_port() for _ in range(workers)]
    with tempfile.TemporaryDirectory() as tmp:
        nginx = Nginx(Path(tmp) / "nginx", free_port(), ports)
        site = f"http://127.0.0.1:{nginx.port}"
        settings = {
            "PIKIR_DATABASE__URL": url,
            "PIKIR_DATA_DIR": str(Path(tmp) / "shared"),
            "PIKIR_SECURITY__SECRET_KEY": "one secret key for the benchmark's workers",
            "PIKIR_HTTP__PUBLIC_URL": site,
            "PIKIR_TELEGRAM__TOKEN": TOKEN,
            "PIKIR_TELEGRAM__API_URL": f"http://127.0.0.1:{api_port}",
            "PIKIR_TELEGRAM__MODE": "webhook",
            "PIKIR_TELEGRAM__WEBHOOK_URL": f"{site}/telegram/webhook",
            "PIKIR_TELEGRAM__WEBHOOK_SECRET": SECRET,
            "PIKIR_TELEGRAM__RATE_PER_SECOND": "1000",
            "PIKIR_SCHEDULER__ENABLED": "false",
            "PIKIR_LOG_LEVEL": "WARNING",
        }
        # Started (and waited for) in a thread: this loop serves the Bot API they call.
        processes = await asyncio.to_thread(start_workers, ports, settings, None, within=180)
        try:
            nginx.start()
            pids = [worker.process.pid for worker in processes]
            return await _load(telegram, site, pids, updates, connections)
        finally:
            nginx.stop()
            stop_all(processes)
            await runner.cleanup()
            await run_on_server(base_pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _load(
    telegram: FakeTelegram, site: str, pids: list[int], updates: int, connections: int
) -> dict[str, float]:
    ids = itertools.count(1)
    chats = itertools.count(9_000_000)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    connector = aiohttp.TCPConnector(limit=connections)
    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(record: bool) -> None:
            chat = next(chats)
            waiter = asyncio.get_running_loop().create_future()
            telegram.waiters[chat] = waiter
            sent = time.perf_counter()
            body = _update(next(ids), chat)
            async with session.post(f"{site}/telegram/webhook", json=body, headers=headers) as r:
                assert r.status == 200, r.status
            replied = await asyncio.wait_for(waiter, 60)
            if record:
                latencies.append(replied - sent)

        async def run(count: int, record: bool) -> None:
            gate = asyncio.Semaphore(connections)

            async def gated() -> None:
                async with gate:
                    await one(record)

            await asyncio.gather(*(gated() for _ in range(count)))

        await run(min(50, updates), record=False)  # warm-up: connections, caches, pools
        cpu_before = _cpu_seconds(pids)
        started = time.perf_counter()
        await run(updates, record=True)
        elapsed = time.perf_counter() - started
        cpu = _cpu_seconds(pids) - cpu_before
    latencies.sort()
    return {
        "updates_per_second": updates / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[int(0.95 * (len(latencies) - 1))] * 1000,
        "cpu_ms_per_update": cpu / updates * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--updates", type=int, default=600)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    base_pg = os.environ.get("PIKIR_BENCH_POSTGRES_URL", DEFAULT_PG)
    print(f"load before: {os.getloadavg()}")
    print("workers  updates/s  p50 ms  p95 ms  worker CPU ms/update")
    for count in args.workers:
        result = asyncio.run(_run(count, args.updates, args.connections, base_pg))
        print(
            f"{count:>7}  {result['updates_per_second']:>9.1f}  {result['p50_ms']:>6.0f}  "
            f"{result['p95_ms']:>6.0f}  {result['cpu_ms_per_update']:>20.1f}",
            flush=True,
        )
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
