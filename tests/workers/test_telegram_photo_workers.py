"""A citizen's Telegram photo across three workers (webhook mode, PostgreSQL and Redis shared).

Each update goes straight to the worker the test picks, as a proxy in front of them may send
it: the photo to the first, the consent that submits the report to the second, and a staff
member opens the case on the third, which never saw the citizen. The photo is kept as the bot's
file id; the third worker fetches it through the Bot API (``getFile`` and the file download)
and serves the citizen's bytes.
"""

from __future__ import annotations

import base64
import io
import re
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from admin.passwords import make_hasher
from bot.conversation import Translator
from storage.database import Database
from storage.models import Attachment, Case, Feedback, StaffRole
from storage.uow import UnitOfWork
from tests.deploy.harness import WorkerProcess, free_port, shared_settings, start_workers, stop_all
from tests.e2e.conftest import WEBHOOK_SECRET
from tests.webchat.images import picture
from tests.workers.test_chat_race import _message_update
from tests.workers.test_postgres_restart import Telegram

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
TRANSLATOR = Translator.load()
CHAT = 9_300_001
FILE_ID = "AgACAgIAAxkBAAIBPhotoOfTheQueue"
PASSWORD = "a password for the photo across workers"


@pytest.fixture
def three_workers(
    empty_postgres: str, emulator: str, tmp_path: Path
) -> Iterator[tuple[list[WorkerProcess], str]]:
    """Three ``pikir serve`` workers of one bot in webhook mode; them and the bot's token."""
    ports = [free_port() for _ in range(3)]
    token = f"{700000 + ports[0]}:PHOTO{time.time_ns()}"
    settings = shared_settings(empty_postgres, tmp_path / "shared") | {
        "PIKIR_TELEGRAM__TOKEN": token,
        "PIKIR_TELEGRAM__API_URL": emulator,
        "PIKIR_TELEGRAM__MODE": "webhook",
        "PIKIR_TELEGRAM__WEBHOOK_URL": f"http://127.0.0.1:{ports[0]}/telegram/webhook",
        "PIKIR_TELEGRAM__WEBHOOK_SECRET": WEBHOOK_SECRET,
        "PIKIR_CLASSIFIER__ENABLED": "false",
        "PIKIR_SCHEDULER__ENABLED": "false",
        "PIKIR_LOG_LEVEL": "WARNING",
    }
    # The first migrates and loads the reference data; the other two then start together.
    workers = start_workers(ports[:1], settings, tmp_path / "logs")
    try:
        workers += start_workers(ports[1:], settings, tmp_path / "logs")
        yield workers, token
    finally:
        stop_all(workers)
        outputs = [worker.output() for worker in workers]
        assert all("Traceback" not in output for output in outputs), outputs


@pytest.fixture
async def staff_login(empty_postgres: str) -> AsyncIterator[str]:
    """An administrator, who sees every region's cases and their photos; their login."""
    database = Database(empty_postgres)
    try:
        async with UnitOfWork(database.sessions) as uow:
            uow.staff.add(
                login="photo-admin",
                password_hash=make_hasher().hash(PASSWORD),
                role=StaffRole.ADMIN,
                regions=[],
                display_name="Photo admin",
                must_change_password=False,
            )
            await uow.commit()
        yield "photo-admin"
    finally:
        await database.dispose()


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    picture(64, 48).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _photo_update(update_id: int, chat: int, file_id: str, size: int) -> dict[str, Any]:
    """A photo message as Telegram sends it: the sizes it made, the largest last."""
    update = _message_update(update_id, chat, "")
    message = update["message"]
    del message["text"]
    message["photo"] = [
        {"file_id": f"{file_id}-small", "file_unique_id": "s", "width": 90, "height": 68},
        {
            "file_id": file_id,
            "file_unique_id": "b",
            "width": 1280,
            "height": 960,
            "file_size": size,
        },
    ]
    return update


async def _logged_in(session: aiohttp.ClientSession, base: str, login: str) -> None:
    async with session.get(f"{base}/admin/login") as page:
        csrf = re.search(r'name="csrf" value="([^"]+)"', await page.text())
    assert csrf is not None
    form = {"login": login, "password": PASSWORD, "csrf": csrf.group(1)}
    async with session.post(f"{base}/admin/login", data=form, allow_redirects=False) as answer:
        assert answer.status == 303, await answer.text()


async def test_a_telegram_photo_taken_by_one_worker_is_shown_by_another(
    three_workers: tuple[list[WorkerProcess], str],
    staff_login: str,
    emulator: str,
    empty_postgres: str,
) -> None:
    workers, token = three_workers
    first, second, third = (worker.port for worker in workers)
    photo = _jpeg()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        # The file as Telegram keeps it for this bot.
        content = base64.b64encode(photo).decode()
        body = {"token": token, "file_id": FILE_ID, "content_base64": content}
        async with session.post(f"{emulator}/_test/file", json=body) as answer:
            assert answer.status == 200
        telegram = Telegram(session, emulator, token)
        await telegram.deliver(first, _message_update(telegram.take_id(), CHAT, "/start ALA-01"))
        await telegram.deliver(first, _message_update(telegram.take_id(), CHAT, "/corruption"))
        await telegram.deliver(
            second, _message_update(telegram.take_id(), CHAT, "Просили деньги за справку")
        )
        # The photo to the first worker; the report is submitted by the second.
        await telegram.deliver(first, _photo_update(telegram.take_id(), CHAT, FILE_ID, len(photo)))
        await telegram.press(second, CHAT, TRANSLATOR.text("ru", "button.consent_no"))
        receipt = (await telegram.messages(CHAT))[-1]["text"]

    database = Database(empty_postgres)
    try:
        async with database.sessions() as db:
            attachment = (await db.scalars(select(Attachment))).one()
            feedback = await db.get(Feedback, attachment.feedback_id)
            case = (await db.scalars(select(Case))).one()
    finally:
        await database.dispose()
    assert feedback is not None and feedback.text == "Просили деньги за справку"
    assert case.feedback_id == feedback.id
    assert receipt.startswith(TRANSLATOR.text("ru", "receipt.direct", ref=feedback.ref))
    # Kept as the bot's file id of the largest size the citizen sent.
    assert attachment.location == FILE_ID

    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar, headers={"Accept-Language": "en"}) as session:
        base = f"http://127.0.0.1:{third}"
        await _logged_in(session, base, staff_login)
        async with session.get(f"{base}/admin/cases/{case.id}") as page:
            assert page.status == 200
            assert f'href="/admin/attachments/{attachment.id}"' in await page.text()
        async with session.get(f"{base}/admin/attachments/{attachment.id}") as shown:
            assert shown.status == 200, await shown.text()
            assert shown.headers["Content-Type"] == "image/jpeg"
            assert shown.headers["Content-Disposition"] == "inline"
            assert await shown.read() == photo
        async with session.get(f"{emulator}/_test/downloads", params={"token": token}) as answer:
            downloads = (await answer.json())["result"]
    assert len(downloads) == 1, downloads  # fetched from Telegram by the third worker
