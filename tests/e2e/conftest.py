"""End to end: the real service (``build_app``), aiogram and a database, against the Bot API
emulator (``telegram-test-api`` behind ``emulator.js``) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr

from bot.main import OUTBOX, build_app
from bot.settings import DatabaseSettings, HttpSettings, Settings, TelegramSettings

HERE = Path(__file__).resolve().parent
STAFF_CHAT = "-100777"
WEBHOOK_SECRET = "a-webhook-secret-of-some-length"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def emulator() -> Iterator[str]:
    """The emulator process for the whole run; its base URL."""
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "telegram-test-api").is_dir():
        pytest.fail("the Telegram emulator is missing: run `npm ci` in tests/e2e (.ci/run does)")
    port = free_port()
    process = subprocess.Popen(
        [node, str(HERE / "emulator.js"), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "ready" in line, f"emulator did not start: {line}"
    # Read what it logs later (failed webhook calls) so that a full pipe never stalls it.
    threading.Thread(target=process.stdout.read, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


_tokens = itertools.count(1)


@dataclass
class Running:
    """One running service process (in this test process) and how to reach it."""

    settings: Settings
    runner: web.AppRunner
    app: web.Application


class Service:
    """Starts, stops and restarts the real service against the emulator."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.current: Running | None = None

    async def start(self) -> Running:
        app = build_app(self.settings)
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self.settings.http.port)
        await site.start()
        self.current = Running(self.settings, runner, app)
        return self.current

    async def stop(self) -> None:
        if self.current is not None:
            await self.current.runner.cleanup()
            self.current = None

    def wake_outbox(self) -> None:
        assert self.current is not None
        self.current.app[OUTBOX].wake()


def make_settings(database_url: str, emulator: str, mode: str, data_dir: Path) -> Settings:
    port = free_port()
    token = f"{100000 + next(_tokens)}:TEST{time.time_ns()}"
    return Settings(
        database=DatabaseSettings(url=database_url),
        http=HttpSettings(port=port, public_url="https://pikir.example"),
        telegram=TelegramSettings(
            token=SecretStr(token),
            api_url=emulator,
            mode=mode,  # type: ignore[arg-type]
            webhook_url=f"http://127.0.0.1:{port}/telegram/webhook",
            webhook_secret=SecretStr(WEBHOOK_SECRET),
            staff_chat_id=STAFF_CHAT,
            rate_per_second=30,
            per_chat_interval=0.05,
        ),
        data_dir=data_dir,
        # Shared, as several workers of one deployment must share it (they refuse otherwise).
        security={"secret_key": "the e2e workers' shared secret key"},  # type: ignore[arg-type]
        scheduler={"enabled": False},  # type: ignore[arg-type]
        classifier={"enabled": False},  # type: ignore[arg-type]
    )


@pytest.fixture
async def emulator_client(emulator: str) -> AsyncIterator[EmulatorClient]:
    async with aiohttp.ClientSession() as session:
        client = EmulatorClient(session, emulator)
        await client.post("/_test/reset", {})
        yield client


class EmulatorClient:
    """The emulator's test endpoints."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        async with self.session.post(self.base + path, json=body) as response:
            return (await response.json())["result"]

    async def get(self, path: str, **params: Any) -> Any:
        async with self.session.get(self.base + path, params=params) as response:
            return (await response.json())["result"]


class Citizen:
    """A Telegram user in a private chat with the bot, as seen through the emulator."""

    def __init__(self, client: EmulatorClient, token: str, chat_id: int, language: str) -> None:
        self.client = client
        self.token = token
        self.chat_id = chat_id
        self.language = language

    async def messages(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        return await self.client.get(
            "/_test/messages", token=self.token, chat_id=chat_id or self.chat_id
        )

    async def _settled(self, before: str, within: float = 10.0) -> list[dict[str, Any]]:
        """Wait until the chat changed and then stayed quiet briefly."""
        deadline = time.monotonic() + within
        last = before
        quiet_since = None
        while time.monotonic() < deadline:
            current = json.dumps(await self.messages(), sort_keys=True)
            if current != last:
                last, quiet_since = current, time.monotonic()
            elif current != before and quiet_since and time.monotonic() - quiet_since > 0.08:
                return json.loads(current)
            await asyncio.sleep(0.02)
        raise AssertionError("the bot did not answer in time")

    async def _act(self, path: str, body: dict[str, Any], expect_answer: bool = True) -> Any:
        before = json.dumps(await self.messages(), sort_keys=True)
        payload = {"token": self.token, "chat_id": self.chat_id, "language_code": self.language}
        result = await self.client.post(path, payload | body)
        if expect_answer:
            await self._settled(before)
        return result

    async def say(self, text: str, expect_answer: bool = True) -> Any:
        return await self._act("/_test/send", {"text": text}, expect_answer)

    async def photo(self, size: int = 123_456, caption: str | None = None) -> Any:
        body: dict[str, Any] = {"file_id": "AgACAgIAAxkBAAIB", "file_size": size}
        if caption:
            body["caption"] = caption
        return await self._act("/_test/photo", body)

    async def press(self, label: str) -> Any:
        """Press the button ``label`` on the newest message that has it."""
        for message in reversed(await self.messages()):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label:
                        return await self._act(
                            "/_test/press",
                            {"message_id": message["message_id"], "data": button["callback_data"]},
                        )
        raise AssertionError(f"no button {label!r} in the chat")

    async def press_first_of_last(self) -> Any:
        last = (await self.messages())[-1]
        button = last["reply_markup"]["inline_keyboard"][0][0]
        return await self._act(
            "/_test/press", {"message_id": last["message_id"], "data": button["callback_data"]}
        )

    async def last_text(self) -> str:
        return str((await self.messages())[-1]["text"])


async def wait_until(predicate: Any, within: float = 10.0) -> Any:
    """Poll an async predicate until it returns something truthy."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")
