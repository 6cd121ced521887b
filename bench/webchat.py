"""Web chat under load: simulated browsers over WebSocket against one ``pikir serve`` on PostgreSQL.

Each browser does what a phone does: loads ``/chat?office=<code>`` (getting its cookie), opens
the WebSocket and answers every question of the flow (language, category, service, rating, five
criteria, a typed comment, no photo, consent) until the receipt. A step's latency is the time
from sending the answer to receiving the next question. Two runs:

* ``paced``: the browsers arrive over ``--ramp`` seconds and think ``--think`` seconds (±50 %)
  before each answer, like people tapping on a phone; all of them are in the chat at once.
* ``flat-out``: the same number of browsers answer without thinking: the service's capacity.

Every finished conversation is checked against the database (one web feedback each).

    uv run python -m bench.webchat [--browsers 500] [--think 3.0] [--ramp 30]

Needs the local PostgreSQL (``PIKIR_BENCH_POSTGRES_URL``); creates and drops its own database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from sqlalchemy.engine import make_url

from bench._common import DEFAULT_PG, _admin

ROOT = Path(__file__).resolve().parent.parent
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
    completed: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0

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
            "client_cpu_seconds": round(self.client_cpu, 1),
        }


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

    async def answer(self, frame: dict[str, Any]) -> dict[str, Any]:
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
        self.run.latencies.append(time.perf_counter() - started)
        self.question = [m for m in reply["messages"] if m["from"] == "bot"][-1]
        return reply

    async def press(self, index: int) -> dict[str, Any]:
        await self.pause()
        buttons = [b["data"] for row in self.question["buttons"] for b in row]
        return await self.answer({"type": "press", "data": buttons[index]})

    async def live(self) -> None:
        """The whole feedback, from the QR code to the receipt."""
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            office = self.rng.choice(OFFICES)
            async with session.get(f"{self.base}/chat?office={office}") as page:
                page.raise_for_status()
                await page.read()
            self.socket = await session.ws_connect(f"{self.base}/chat/ws", origin=self.base)
            await self.answer({"type": "open", "office": office, "lang": None})
            await self.press(self.rng.randrange(3))  # kk / ru / en
            await self.press(0)  # first category
            await self.press(0)  # first service
            await self.press(self.rng.choice([2, 3, 4]))  # rating 3-5
            for _ in range(5):
                await self.press(self.rng.randrange(3))  # yes / no / skip
            await self.pause()
            await self.answer({"type": "text", "text": self.rng.choice(COMMENTS)})
            await self.press(0)  # no photo
            receipt = await self.press(self.rng.randrange(2))  # consent yes / no
            if "PK-" not in receipt["messages"][-1]["text"]:
                raise RuntimeError(f"no receipt: {receipt}")
            await self.socket.close()
        self.run.completed += 1


async def run_browsers(
    base: str, name: str, browsers: int, think: float, ramp: float, server_pid: int, seed: int
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
    started = time.perf_counter()
    await asyncio.gather(*(one(index) for index in range(browsers)))
    run.seconds = time.perf_counter() - started
    run.server_cpu = _cpu(server_pid) - server_before
    run.client_cpu = _own_cpu() - client_before
    return run


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_healthy(base: str, serve: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            if serve.poll() is not None:
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
    parsed = make_url(url)
    conn = await asyncpg.connect(
        host=parsed.host, port=parsed.port or 5432, user=parsed.username,
        password=parsed.password, database=parsed.database,
    )
    try:
        return int(await conn.fetchval("SELECT count(*) FROM feedback WHERE channel = 'web'"))
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--browsers", type=int, default=500)
    parser.add_argument("--think", type=float, default=3.0, help="mean seconds before a tap")
    parser.add_argument("--ramp", type=float, default=30.0, help="seconds over which they arrive")
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--skip-flat-out", action="store_true")
    args = parser.parse_args()

    base_url = os.environ.get("PIKIR_BENCH_POSTGRES_URL", DEFAULT_PG)
    name = f"pikir_bench_web_{secrets.token_hex(3)}"
    await _admin(base_url, f'CREATE DATABASE "{name}"')
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
        # Popen only starts the server; it does not wait, so the loop is not blocked.
        serve = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-m", "bot.main", "serve"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        try:
            await _wait_healthy(base, serve)
            runs.append(
                await run_browsers(
                    base, "paced", args.browsers, args.think, args.ramp, serve.pid, args.seed
                )
            )
            if not args.skip_flat_out:
                runs.append(
                    await run_browsers(
                        base, "flat-out", args.browsers, 0.0, 0.0, serve.pid, args.seed + 1
                    )
                )
            stored = await _web_feedback(url)
        finally:
            serve.terminate()
            _out, err = serve.communicate(timeout=30)
            await _admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    results = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{os.cpu_count()} CPU",
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
    if err and b"Traceback" in err:
        print(err.decode(errors="replace")[-3000:], file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
