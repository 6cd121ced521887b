"""Resident memory of ``pikir serve`` with the bot running (polling the emulator), after it has
handled a burst of citizens.

Needs ``make install`` and the Telegram emulator's packages (``cd tests/e2e && npm ci``); the
database is a temporary SQLite file.

    uv run python -m bench.serve_memory [--chats 300]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EMULATOR = ROOT / "tests" / "e2e" / "emulator.js"
TOKEN = "123456:MEMORY"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _call(url: str, body: dict[str, object] | None = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:  # loopback only
        return json.loads(response.read()).get("result")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, default=300)
    args = parser.parse_args()
    emulator_port, http_port = _free_port(), _free_port()
    emulator = subprocess.Popen(
        ["node", str(EMULATOR), str(emulator_port)], stdout=subprocess.PIPE, text=True
    )
    assert emulator.stdout is not None and "ready" in emulator.stdout.readline()
    base = f"http://127.0.0.1:{emulator_port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = os.environ | {
            "PIKIR_DATABASE__URL": f"sqlite+aiosqlite:///{tmp}/pikir.db",
            "PIKIR_DATA_DIR": tmp,
            "PIKIR_HTTP__PORT": str(http_port),
            "PIKIR_TELEGRAM__TOKEN": TOKEN,
            "PIKIR_TELEGRAM__API_URL": base,
            "PIKIR_LOG_LEVEL": "WARNING",
        }
        serve = subprocess.Popen(
            [sys.executable, "-m", "bot.main", "serve"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    _call(f"http://127.0.0.1:{http_port}/healthz")
                    break
                except OSError:
                    time.sleep(0.2)
            idle = _rss_mb(serve.pid)
            for chat in range(args.chats):
                _call(
                    base + "/_test/send",
                    {"token": TOKEN, "chat_id": 10_000 + chat, "text": "/start AST-01"},
                )
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                answered = sum(
                    bool(_call(f"{base}/_test/messages?token={TOKEN}&chat_id={10_000 + c}"))
                    for c in range(0, args.chats, max(1, args.chats // 10))
                )
                if answered >= 10:
                    break
                time.sleep(0.5)
            busy = _rss_mb(serve.pid)
            print(
                f"pikir serve RSS: {idle:.0f} MB after start, {busy:.0f} MB after "
                f"{args.chats} citizens started a conversation",
                flush=True,
            )
        finally:
            serve.terminate()
            serve.wait(timeout=20)
            emulator.terminate()
            emulator.wait(timeout=10)


if __name__ == "__main__":
    main()
