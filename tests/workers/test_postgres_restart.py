"""PostgreSQL crashes and comes back while two workers take citizens' reports over the webhook.

The cluster is the test's own (another port), stopped in ``immediate`` mode (a crash: the
restart replays the WAL) while citizens are mid-conversation. Telegram is played as it behaves:
an update not answered 200 is delivered again. While the database is away the workers say so
in one line per event and on ``/readyz``, and refuse updates rather than apologise; afterwards
every citizen's report is stored once, every receipt names a stored report with its text, and
nothing committed before the crash is gone.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.conversation import Translator
from bot.conversation.callbacks import Action, decode
from storage.database import Database
from storage.models import Feedback
from tests.deploy.harness import (
    UnitWorker,
    free_port,
    json_environment,
    running_units,
    shared_settings,
)
from tests.e2e.conftest import WEBHOOK_SECRET
from tests.workers.test_chat_race import _message_update
from tests.workers.throwaway_postgres import ThrowawayCluster, throwaway_cluster

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
CITIZENS = 30
TRANSLATOR = Translator.load()


@pytest.fixture
def cluster() -> Iterator[ThrowawayCluster]:
    with throwaway_cluster() as cluster:
        yield cluster


@pytest.fixture
def workers(cluster: ThrowawayCluster, emulator: str, tmp_path: Path) -> Iterator[list[UnitWorker]]:
    """Two workers on the throwaway cluster, sharing Redis, as the systemd unit starts them."""
    ports = [free_port() for _ in range(2)]
    environment_file = tmp_path / "pikir.env"
    environment_file.write_text(
        json_environment(
            {
                **shared_settings(cluster.url, tmp_path / "shared"),
                "PIKIR_TELEGRAM__TOKEN": f"{700000 + ports[0]}:RESTART{time.time_ns()}",
                "PIKIR_TELEGRAM__API_URL": emulator,
                "PIKIR_TELEGRAM__MODE": "webhook",
                "PIKIR_TELEGRAM__WEBHOOK_URL": f"http://127.0.0.1:{ports[0]}/telegram/webhook",
                "PIKIR_TELEGRAM__WEBHOOK_SECRET": WEBHOOK_SECRET,
                "PIKIR_CLASSIFIER__ENABLED": "false",
                "PIKIR_SCHEDULER__ENABLED": "false",
                "PIKIR_LOG_LEVEL": "WARNING",
            }
        )
    )
    with running_units(ports, environment_file) as started:
        yield started


class Telegram:
    """Delivers updates to the workers' webhooks, again and again until one answers 200."""

    def __init__(self, session: aiohttp.ClientSession, emulator: str, token: str) -> None:
        self.session = session
        self.emulator = emulator
        self.token = token
        self.next_id = 1000
        self.refused = 0

    def take_id(self) -> int:
        self.next_id += 1
        return self.next_id

    async def deliver(self, port: int, update: dict[str, Any]) -> None:
        deadline = time.monotonic() + 60
        while True:
            async with self.session.post(
                f"http://127.0.0.1:{port}/telegram/webhook",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
            ) as response:
                if response.status == 200:
                    return
            self.refused += 1
            assert time.monotonic() < deadline, f"update {update['update_id']} never handled"
            await asyncio.sleep(0.3)

    async def messages(self, chat: int) -> list[dict[str, Any]]:
        params = {"token": self.token, "chat_id": str(chat)}
        async with self.session.get(f"{self.emulator}/_test/messages", params=params) as response:
            return list((await response.json())["result"])

    async def press(self, port: int, chat: int, label: str) -> None:
        """Press the button ``label`` on the newest message of ``chat`` that has it."""
        for message in reversed(await self.messages(chat)):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label:
                        await self.deliver(port, self._callback(chat, message, button))
                        return
        raise AssertionError(f"no button {label!r} in chat {chat}")

    def _callback(
        self, chat: int, message: dict[str, Any], button: dict[str, str]
    ) -> dict[str, Any]:
        citizen = {"id": chat, "is_bot": False, "first_name": "Citizen", "language_code": "ru"}
        return {
            "update_id": self.take_id(),
            "callback_query": {
                "id": str(self.next_id),
                "from": citizen,
                "chat_instance": str(chat),
                "data": button["callback_data"],
                "message": {
                    "message_id": message["message_id"],
                    "date": int(time.time()),
                    "chat": {"id": chat, "type": "private", "first_name": "Citizen"},
                    "text": message.get("text", ""),
                },
            },
        }


def _text_of(chat: int) -> str:
    return f"Жалоба гражданина {chat}: просили деньги за справку"


async def _report(telegram: Telegram, ports: list[int], chat: int) -> None:
    """One citizen's direct report, each step to the next worker."""
    for step, text in enumerate(("/start ALA-01", "/corruption", _text_of(chat))):
        await telegram.deliver(ports[step % 2], _message_update(telegram.take_id(), chat, text))
    await telegram.press(ports[1], chat, TRANSLATOR.text("ru", "button.skip_photo"))
    await telegram.press(ports[0], chat, TRANSLATOR.text("ru", "button.consent_no"))


async def _stored(url: str) -> dict[str, str | None]:
    """Each stored report's reference and text."""
    database = Database(url)
    try:
        async with database.sessions() as session:
            rows = (await session.execute(select(Feedback.ref, Feedback.text))).all()
    finally:
        await database.dispose()
    return {ref: text for ref, text in rows}


async def _ready(session: aiohttp.ClientSession, port: int) -> int:
    async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
        return response.status


async def _until(predicate: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not await predicate():
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.1)


async def test_a_postgres_crash_under_load_loses_nothing_committed(
    cluster: ThrowawayCluster, workers: list[UnitWorker], emulator: str
) -> None:
    ports = [worker.port for worker in workers]
    token = workers[0].command()[1]["PIKIR_TELEGRAM__TOKEN"]
    chats = [9_300_000 + n for n in range(CITIZENS)]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        telegram = Telegram(session, emulator, token)

        async def citizen(index: int, chat: int) -> None:
            await asyncio.sleep(index * 0.3)  # arriving one after another, through the crash
            await _report(telegram, ports, chat)

        reports = asyncio.gather(*(citizen(i, chat) for i, chat in enumerate(chats)))
        try:
            await _until(lambda: _has_reports(cluster.url, CITIZENS // 5), 60)
            before_crash = await _stored(cluster.url)
            cluster.stop("immediate")

            async def both_unready() -> bool:
                return [await _ready(session, port) for port in ports] == [503, 503]

            await _until(both_unready, 15)
            await asyncio.sleep(2)  # away a while, citizens still writing
            cluster.start()

            async def both_ready() -> bool:
                return [await _ready(session, port) for port in ports] == [200, 200]

            await _until(both_ready, 30)
            async with asyncio.timeout(120):
                await reports
        finally:
            reports.cancel()
        receipts = {chat: await _receipt_refs(telegram, chat) for chat in chats}
    stored = await _stored(cluster.url)

    assert telegram.refused > 0  # the crash did fall on updates in flight
    assert before_crash.items() <= stored.items()  # nothing committed was lost
    texts = sorted(text or "" for text in stored.values())
    assert texts == sorted(_text_of(chat) for chat in chats)  # every report, once
    for chat, refs in receipts.items():
        assert len(refs) == 1, (chat, refs)  # one receipt per report
        assert stored.get(refs[0]) == _text_of(chat), (chat, refs)  # for the stored report

    for worker in workers:
        worker.stop()
    output = "\n".join(line for worker in workers for line in worker.log)
    assert "Traceback" not in output, output[-3000:]
    assert re.search(r"database.*unavailable|unavailable.*database", output), output[-3000:]


async def _has_reports(url: str, count: int) -> bool:
    return len(await _stored(url)) >= count


async def _receipt_refs(telegram: Telegram, chat: int) -> list[str]:
    """The references on the status buttons of the receipts the citizen was sent."""
    refs = []
    for message in await telegram.messages(chat):
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                pressed = decode(button["callback_data"])
                if pressed is not None and pressed.action is Action.STATUS:
                    refs.append(pressed.argument)
    return refs
