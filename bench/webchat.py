"""Web chat under load: simulated browsers over WebSocket against one ``pikir serve`` on PostgreSQL.

Each browser does what a phone does: loads ``/chat?office=<code>`` (getting its cookie), opens
the WebSocket and answers every question of the flow (language, category, service, rating, five
criteria, a typed comment, no photo, consent) until the receipt. A step's latency is the time
from sending the answer to receiving the next question. Two runs:

* ``paced``: the browsers arrive over ``--ramp`` seconds and think ``--think`` seconds (±50 %)
  before each answer, like people tapping on a phone; all of them are in the chat at once.
* ``flat-out``: the same number of browsers answer without thinking: the service's capacity.

Every finished conversation is checked against the database (one web feedback each).

    uv run python -m bench.webchat [--browsers 500] [--think 5.0] [--ramp 60]

Needs the local PostgreSQL (``PIKIR_BENCH_POSTGRES_URL``); creates and drops its own database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import secrets
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from sqlalchemy.engine import make_url

from bench._common import DEFAULT_PG, run_on_server

ROOT = Path(__file__).resolve().parent.parent
# What runs the server (``-m bot.main serve``, i.e. ``pikir serve``); another script may wrap it.
SERVE = os.environ.get("PIKIR_BENCH_SERVE", "-m bot.main serve").split()
OFFICES = ["AST-01", "AST-02", "ALA-01", "SHY-01"]
COMMENTS = [
    "Очередь была долгая, почти час",
    "Оператор вежливый, всё быстро",
    "Кезек ұзақ болды, бірақ қызметкер сыпайы",
    "Waited 40 minutes, the terminal was broken",
]


@dataclass
class Run:
    """What one run measured."""

    name: str
    browsers: int
    latencies: list[float] = field(default_factory=list)
    by_step: dict[str, list[float]] = field(default_factory=dict)
    completed: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    database_cpu: float = 0.0

    def summary(self) -> dict[str, Any]:
        cuts = statistics.quantiles(self.latencies, n=100) if len(self.latencies) > 1 else [0] * 99
        return {
            "run": self.name,
            "browsers": self.browsers,
            "completed": self.completed,
            "failures": len(self.failures),
            "first_failures": self.failures[:5],
            "steps": len(self.latencies),
            "seconds": round(self.seconds, 2),
            "conversations_per_second": round(self.completed / self.seconds, 2),
            "steps_per_second": round(len(self.latencies) / self.seconds, 1),
            "step_ms_p50": round(cuts[49] * 1000, 1),
            "step_ms_p95": round(cuts[94] * 1000, 1),
            "step_ms_p99": round(cuts[98] * 1000, 1),
            "step_ms_max": round(max(self.latencies, default=0) * 1000, 1),
            "server_cpu_seconds": round(self.server_cpu, 1),
            "server_cpu_ms_per_step": round(
                self.server_cpu / max(1, len(self.latencies)) * 1000, 2
            ),
            "client_cpu_seconds": round(self.client_cpu, 1),
            "database_cpu_seconds": round(self.database_cpu, 1),
            "database_cpu_ms_per_step": round(
                self.database_cpu / max(1, len(self.latencies)) * 1000, 2
            ),
            # What one core would sustain if the service (its process and its database
            # backends) had it to itself: the capacity the CPU figures imply.
            "conversations_per_core_second": round(
                self.completed / max(1e-9, self.server_cpu + self.database_cpu), 1
            ),
            "p95_ms_by_step": {
                step: round(_p95(values) * 1000, 1) for step, values in self.by_step.items()
            },
        }


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94] if len(values) > 1 else values[0]


class Browser:
    """One simulated browser."""

    def __init__(self, base: str, run: Run, think: float, rng: random.Random) -> None:
        self.base = base
        self.run = run
        self.think = think
        self.rng = rng
        self.socket: aiohttp.ClientWebSocketResponse | None = None
        self.question: dict[str, Any] = {}

    async def pause(self) -> None:
        if self.think > 0:
            await asyncio.sleep(self.rng.uniform(0.5, 1.5) * self.think)

    async def answer(self, frame: dict[str, Any], step: str) -> dict[str, Any]:
        """Send a frame; wait for the next question; record the step's latency."""
        assert self.socket is not None
        started = time.perf_counter()
        await self.socket.send_str(json.dumps(frame, ensure_ascii=False))
        while True:
            message = await self.socket.receive(timeout=60)
            if message.type is not aiohttp.WSMsgType.TEXT:
                raise RuntimeError(f"socket closed: {message.type} {message.data}")
            reply = json.loads(message.data)
            if reply["type"] == "error":
                raise RuntimeError(f"error frame: {reply}")
            if reply["type"] == "messages" and any(m["from"] == "bot" for m in reply["messages"]):
                break
        elapsed = time.perf_counter() - started
        self.run.latencies.append(elapsed)
        self.run.by_step.setdefault(step, []).append(elapsed)
        self.question = [m for m in reply["messages"] if m["from"] == "bot"][-1]
        return reply

    async def press(self, index: int, step: str) -> dict[str, Any]:
        await self.pause()
        buttons = [b["data"] for row in self.question["buttons"] for b in row]
        return await self.answer({"type": "press", "data": buttons[index]}, step)

    async def live(self) -> None:
        """The whole feedback, from the QR code to the receipt."""
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            office = self.rng.choice(OFFICES)
            async with session.get(f"{self.base}/chat?office={office}") as page:
                page.raise_for_status()
                await page.read()
            self.socket = await session.ws_connect(f"{self.base}/chat/ws", origin=self.base)
            await self.answer({"type": "open", "office": office, "lang": None}, "open")
            await self.press(self.rng.randrange(3), "language")  # kk / ru / en
            await self.press(0, "category")  # the first one
            await self.press(0, "service")  # the first one
            await self.press(self.rng.choice([2, 3, 4]), "rating")  # 3-5
            for _ in range(5):
                await self.press(self.rng.randrange(3), "criterion")  # yes / no / skip
            await self.pause()
            await self.answer({"type": "text", "text": self.rng.choice(COMMENTS)}, "text")
            await self.press(0, "photo")  # no photo
            receipt = await self.press(self.rng.randrange(2), "consent")  # yes / no
            if "PK-" not in receipt["messages"][-1]["text"]:
                raise RuntimeError(f"no receipt: {receipt}")
            await self.socket.close()
        self.run.completed += 1


async def run_browsers(
    base: str,
    name: str,
    browsers: int,
    think: float,
    ramp: float,
    server_pid: int,
    seed: int,
    database_url: str,
) -> Run:
    run = Run(name, browsers)
    rng = random.Random(seed)

    async def one(index: int) -> None:
        await asyncio.sleep(ramp * index / browsers)
        try:
            await Browser(base, run, think, random.Random(rng.random())).live()
        except Exception as exc:  # counted and reported, never hidden
            run.failures.append(f"{type(exc).__name__}: {exc}")

    server_before, client_before = _cpu(server_pid), _own_cpu()
    database_before = await _backend_cpu(database_url)
    started = time.perf_counter()
    await asyncio.gather(*(one(index) for index in range(browsers)))
    run.seconds = time.perf_counter() - started
    run.server_cpu = _cpu(server_pid) - server_before
    run.client_cpu = _own_cpu() - client_before
    database_after = await _backend_cpu(database_url)
    run.database_cpu = sum(
        spent - database_before.get(pid, 0.0) for pid, spent in database_after.items()
    )
    return run


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _backend_cpu(url: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving the bench database (same machine).

    Counted per backend between a run's start and end; a backend that exited meanwhile (an
    overflow connection of the pool) is missed, so this is a lower bound.
    """
    conn = await _connect(url)
    try:
        pids = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    spent = {}
    for record in pids:
        with contextlib.suppress(OSError):
            spent[record["pid"]] = _cpu(record["pid"])
    return spent


async def _connect(url: str) -> asyncpg.Connection:
    parsed = make_url(url)
    return await asyncpg.connect(
        host=parsed.host,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
    )


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_healthy(base: str, serve: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            if serve.returncode is not None:
                raise RuntimeError("pikir serve exited during start")
            try:
                async with session.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("pikir serve did not become healthy")


async def _web_feedback(url: str) -> int:
    conn = await _connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM feedback WHERE channel = 'web'"))
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--browsers", type=int, default=500)
    parser.add_argument("--think", type=float, default=5.0, help="mean seconds before a tap")
    parser.add_argument("--ramp", type=float, default=60.0, help="seconds over which they arrive")
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--skip-flat-out", action="store_true")
    args = parser.parse_args()

    # Other work on the machine slows every step; the load average says how busy it was.
    load_before = [round(x, 2) for x in os.getloadavg()]
    base_url = os.environ.get("PIKIR_BENCH_POSTGRES_URL", DEFAULT_PG)
    name = f"pikir_bench_web_{secrets.token_hex(3)}"
    await run_on_server(base_url, f'CREATE DATABASE "{name}"')
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIKIR_")} | {
            "PIKIR_DATABASE__URL": url,
            "PIKIR_DATA_DIR": tmp,
            "PIKIR_HTTP__PORT": str(port),
            "PIKIR_HTTP__PUBLIC_URL": base,
            "PIKIR_LOG_LEVEL": "WARNING",
            # Every simulated browser comes from 127.0.0.1; in production they come from
            # thousands of addresses, so the per-address limits are lifted for the benchmark.
            "PIKIR_WEBCHAT__IP_PER_SECOND": "100000",
            "PIKIR_WEBCHAT__IP_BURST": "1000000",
            "PIKIR_WEBCHAT__NEW_CHATS_PER_MINUTE": "1000000",
            "PIKIR_WEBCHAT__NEW_CHATS_BURST": "1000000",
            "PIKIR_WEBCHAT__MAX_SOCKETS_PER_IP": "100000",
        }
        log_path = Path(tmp) / "serve.log"
        with log_path.open("wb") as log:  # a file, not a pipe: a full pipe would stall the server
            serve = await asyncio.create_subprocess_exec(
                sys.executable,
                *SERVE,
                env=env,
                cwd=ROOT,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log,
            )
            try:
                await _wait_healthy(base, serve)
                runs.append(
                    await run_browsers(
                        base,
                        "paced",
                        args.browsers,
                        args.think,
                        args.ramp,
                        serve.pid,
                        args.seed,
                        url,
                    )
                )
                if not args.skip_flat_out:
                    runs.append(
                        await run_browsers(
                            base,
                            "flat-out",
                            args.browsers,
                            0.0,
                            0.0,
                            serve.pid,
                            args.seed + 1,
                            url,
                        )
                    )
                stored = await _web_feedback(url)
            finally:
                serve.terminate()
                await serve.wait()
                await run_on_server(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        errors = log_path.read_text(errors="replace").count("Traceback")
    results = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{os.cpu_count()} CPU",
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "runs": [run.summary() for run in runs],
        "web_feedback_rows": stored,
        "completed_total": sum(run.completed for run in runs),
    }
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"webchat-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False)
    )
    print(json.dumps(results, indent=2, ensure_ascii=False))
    if stored != results["completed_total"]:
        print(f"MISMATCH: {stored} web feedback rows for {results['completed_total']} receipts")
        sys.exit(1)
    if errors:
        print(f"the server logged {errors} traceback(s)", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
