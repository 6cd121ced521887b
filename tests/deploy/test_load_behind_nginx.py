"""Three workers behind the shipped nginx site, on one PostgreSQL database and one Redis, with
the Bot API emulator delivering webhook updates through nginx on several connections at once.

Hundreds of citizens go through the whole survey at the same time: each ends with exactly one
receipt and one feedback row with its text. Then the worker running the scheduler is killed
outright in the middle of such a load: the emulator redelivers what failed, as Telegram does,
nothing is lost or doubled, another worker takes the scheduler over and no job runs twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

import vocabulary
from bot.conversation import Translator
from storage.database import Database
from storage.models import Feedback
from tests.conftest import PostgresServer
from tests.deploy.conftest import fresh_database
from tests.deploy.harness import (
    Nginx,
    WorkerProcess,
    free_port,
    shared_settings,
    start_workers,
    stop_all,
)
from tests.e2e.conftest import WEBHOOK_SECRET

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

TRANSLATOR = Translator.load()
LANG = "ru"
# How long one step of one citizen may take at most: a correctness bound (a reply that never
# comes), not a speed figure; generous for a loaded 2-core machine.
STEP_WITHIN = 90.0
POLL = 1.0
CITIZENS = int(os.environ.get("PIKIR_TEST_LOAD_CITIZENS", "300"))
CRITERIA = len(vocabulary.CRITERIA)  # the yes/no questions, "(1/5)" to "(5/5)"


def t(message_id: str, **params: object) -> str:
    return TRANSLATOR.text(LANG, message_id, **params)


@dataclass
class Deployment:
    """nginx in front of the workers; the bot's token at the emulator; the database URL."""

    base: str
    nginx: Nginx
    workers: list[WorkerProcess]
    token: str
    database_url: str


@pytest.fixture(scope="module")
def deployment(
    postgres_server: PostgresServer, emulator: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    """One deployment for the module (starting three workers is most of the cost); the test
    that kills a worker comes last."""
    with fresh_database(postgres_server) as url:
        yield from _deploy(url, emulator, tmp_path_factory.mktemp("deployment"))


def _deploy(database_url: str, emulator: str, tmp_path: Path) -> Iterator[Deployment]:
    ports = [free_port() for _ in range(3)]
    nginx = Nginx(tmp_path / "nginx", free_port(), ports)
    base = f"http://127.0.0.1:{nginx.port}"
    token = f"{800000 + nginx.port}:LOAD{time.time_ns()}"
    settings = {
        **shared_settings(database_url, tmp_path / "shared"),
        "PIKIR_HTTP__PUBLIC_URL": base,
        "PIKIR_HTTP__TRUSTED_PROXIES": '["127.0.0.1"]',
        "PIKIR_TELEGRAM__TOKEN": token,
        "PIKIR_TELEGRAM__API_URL": emulator,
        "PIKIR_TELEGRAM__MODE": "webhook",
        "PIKIR_TELEGRAM__WEBHOOK_URL": f"{base}/telegram/webhook",
        "PIKIR_TELEGRAM__WEBHOOK_SECRET": WEBHOOK_SECRET,
        # The emulator has no limits of its own here: the service's limits are not under test.
        "PIKIR_TELEGRAM__RATE_PER_SECOND": "1000",
        "PIKIR_TELEGRAM__PER_CHAT_INTERVAL": "0",
        # Messages a killed worker had claimed are sent by the others after this long.
        "PIKIR_TELEGRAM__OUTBOX_STUCK_SECONDS": "10",
        "PIKIR_CLASSIFIER__ENABLED": "false",
        "PIKIR_SCHEDULER__ENABLED": "true",
        "PIKIR_SCHEDULER__TAKEOVER_SECONDS": "1",
        # Every minute, so that a run falls inside the test's minute or two.
        "PIKIR_SCHEDULER__AGGREGATE": "* * * * *",
        "PIKIR_LOG_LEVEL": "INFO",
    }
    workers = start_workers(ports, settings, tmp_path / "logs")
    try:
        nginx.start()
        yield Deployment(base, nginx, workers, token, database_url)
    finally:
        nginx.stop()
        stop_all(workers)


Check = Callable[[dict[str, Any]], bool]


@dataclass
class Chat:
    """One citizen's private chat, driven through the emulator's test endpoints.

    The citizen reads the chat as a person does: after each action it looks for the question
    that answers it anywhere in the chat, new or edited in place. A worker killed mid-load
    leaves updates that the emulator delivers again, and each redelivery asks the question
    current at that moment once more, as a new message that can arrive after the real answer;
    a citizen who took the newest message for the answer would fall out of step.
    """

    http: aiohttp.ClientSession
    emulator: str
    token: str
    chat_id: int
    known: dict[int, dict[str, Any]] = field(default_factory=dict)
    steps: int = 0
    sent: list[str] = field(default_factory=list)

    async def messages(self) -> list[dict[str, Any]]:
        params = {"token": self.token, "chat_id": str(self.chat_id)}
        async with self.http.get(f"{self.emulator}/_test/messages", params=params) as response:
            return list((await response.json())["result"])

    async def _act(self, path: str, body: dict[str, Any], answered: Check) -> dict[str, Any]:
        """Post the citizen's action and wait for a message, new or edited since the last
        answer, that ``answered``."""
        payload = {"token": self.token, "chat_id": self.chat_id, "language_code": LANG} | body
        async with self.http.post(f"{self.emulator}{path}", json=payload) as response:
            assert response.status == 200, await response.text()
        deadline = time.monotonic() + STEP_WITHIN
        while time.monotonic() < deadline:
            await asyncio.sleep(POLL)
            messages = await self.messages()
            changed = [m for m in messages if self.known.get(m["message_id"]) != m]
            found = [m for m in changed if answered(m)]
            if found:
                self.known = {m["message_id"]: m for m in messages}
                self.steps += 1
                return found[-1]
        latest = [m["text"][:60] for m in (await self.messages())[-3:]]
        raise AssertionError(
            f"chat {self.chat_id}: no answer to {body} (step {self.steps}): {latest}"
        )

    async def say(self, text: str, expect: str) -> dict[str, Any]:
        self.sent.append(text)
        return await self._act("/_test/send", {"text": text}, _says(expect))

    async def press(self, label: str | None, on: Check, expect: Check) -> None:
        """Press ``label`` (None: the first button) on the newest message that shows the
        question ``on`` (every copy of a question carries the same, current buttons)."""
        for message in reversed(await self.messages()):
            if not on(message):
                continue
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if label is None or button["text"] == label:
                        body = {
                            "message_id": message["message_id"],
                            "data": button["callback_data"],
                        }
                        await self._act("/_test/press", body, expect)
                        return
        raise AssertionError(f"chat {self.chat_id}: no button {label!r}")


def _says(text: str) -> Check:
    return lambda message: text in message["text"]


def _criterion(number: int) -> Check:
    """The question of the ``number``-th criterion, "(n/5) …"."""
    return lambda message: message["text"].startswith(f"({number}/{CRITERIA})")


def _complaint(chat_id: int) -> str:
    return f"Жалоба {chat_id}: в окне {chat_id % 7} просили деньги за справку"


async def survey(chat: Chat, progress: Callable[[], None] = lambda: None) -> None:
    """The whole survey from the office's QR code to the receipt: a rating of 1, every
    criterion "no", a complaint, no photo, consent to be contacted."""
    await chat.say("/start AST-01", t("category.ask"))
    await chat.press(None, _says(t("category.ask")), _says(t("service.ask")))
    await chat.press(None, _says(t("service.ask")), _says(t("rating.ask")))
    await chat.press("1", _says(t("rating.ask")), _criterion(1))
    progress()
    for number in range(1, CRITERIA):
        await chat.press(t("button.no"), _criterion(number), _criterion(number + 1))
    text_ask = _says(t("text.ask_low", limit=2000))
    await chat.press(t("button.no"), _criterion(CRITERIA), text_ask)
    await chat.say(_complaint(chat.chat_id), t("photo.ask"))
    await chat.press(t("button.skip_photo"), _says(t("photo.ask")), _says(t("consent.ask")))
    receipt = _says(t("receipt.done", ref=""))
    await chat.press(t("button.consent_yes"), _says(t("consent.ask")), receipt)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=120)
    ) as session:
        yield session


async def _run_all(chats: list[Chat], run: Callable[[Chat], Awaitable[None]]) -> None:
    """Every chat at once; the failures, if any, in one assertion."""
    results = await asyncio.gather(*(run(chat) for chat in chats), return_exceptions=True)
    failures = [repr(result) for result in results if isinstance(result, BaseException)]
    assert not failures, (len(failures), failures[:5])


async def _check_every_chat_once(deployment: Deployment, chats: list[Chat]) -> None:
    """One feedback row with the citizen's text per chat, and one receipt naming it."""
    database = Database(deployment.database_url)
    try:
        async with database.sessions() as session:
            expected = {_complaint(chat.chat_id) for chat in chats}
            query = select(Feedback.text, Feedback.ref).where(Feedback.text.in_(expected))
            rows = (await session.execute(query)).all()
    finally:
        await database.dispose()
    texts = Counter(text for text, _ in rows)
    assert len(rows) == len(chats) and set(texts) == expected, (len(rows), len(texts))
    refs = {text: ref for text, ref in rows}
    receipt = t("receipt.done", ref="")
    wrong = []
    for chat in chats:
        receipts = [m["text"] for m in await chat.messages() if m["text"].startswith(receipt)]
        ref = refs[_complaint(chat.chat_id)]
        if len(receipts) != 1 or not receipts[0].startswith(t("receipt.done", ref=ref)):
            wrong.append((chat.chat_id, receipts))
    assert not wrong, (len(wrong), wrong[:5])


async def test_300_citizens_at_once_through_nginx_each_get_one_receipt_and_one_feedback(
    deployment: Deployment, emulator: str, http: aiohttp.ClientSession
) -> None:
    chats = [Chat(http, emulator, deployment.token, 8_100_000 + n) for n in range(CITIZENS)]
    await _run_all(chats, survey)
    await _check_every_chat_once(deployment, chats)
    # The updates went through nginx to every worker, not to one.
    handled = [
        sum(1 for e in _events(worker) if str(e["event"]).startswith("Update id="))
        for worker in deployment.workers
    ]
    assert all(count > 0 for count in handled), handled


def _holders(workers: list[WorkerProcess]) -> list[int]:
    """The ports of the workers whose log says they started the scheduler."""
    return [
        worker.port
        for worker in workers
        if any(e["event"] == "scheduler.started" for e in _events(worker))
    ]


def _events(worker: WorkerProcess) -> list[dict[str, Any]]:
    """The worker's structured log lines (one JSON object each)."""
    events = []
    for line in worker.output().splitlines():
        if line.startswith("{"):
            with contextlib.suppress(ValueError):  # a line the kill cut short
                events.append(json.loads(line))
    return events


async def _wait_for(predicate: Callable[[], bool], within: float) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.2)


async def test_the_scheduler_worker_killed_mid_load_loses_and_doubles_nothing(
    deployment: Deployment, emulator: str, http: aiohttp.ClientSession
) -> None:
    workers = deployment.workers
    await _wait_for(lambda: len(_holders(workers)) == 1, 30)
    [holder_port] = _holders(workers)
    [holder] = [worker for worker in workers if worker.port == holder_port]
    others = [worker for worker in workers if worker is not holder]

    chats = [Chat(http, emulator, deployment.token, 8_200_000 + n) for n in range(150)]
    rated = asyncio.Event()
    count = 0

    def progress() -> None:
        nonlocal count
        count += 1
        if count == len(chats) // 3:
            rated.set()

    async def kill_in_the_middle() -> None:
        await rated.wait()
        holder.kill()  # SIGKILL: its connections, its claims and its lease just end

    killer = asyncio.create_task(kill_in_the_middle())
    await _run_all(chats, lambda chat: survey(chat, progress))
    await killer
    assert not holder.running()

    # Another worker, one only, took the scheduler over (it tries every second).
    await _wait_for(lambda: len(_holders(others)) == 1, 30)
    await _check_every_chat_once(deployment, chats)

    deliveries = await _get(http, f"{emulator}/_test/deliveries", token=deployment.token)
    assert all(d["status"] == 200 for d in deliveries), [
        d for d in deliveries if d["status"] != 200
    ]
    # No scheduled run started twice, on any worker, the killed one included.
    starts = Counter(
        e["run_key"] for worker in workers for e in _events(worker) if e["event"] == "job.start"
    )
    assert all(n == 1 for n in starts.values()), starts


async def _get(http: aiohttp.ClientSession, url: str, **params: str) -> Any:
    async with http.get(url, params=params) as response:
        return (await response.json())["result"]
