"""Two workers on one database and one shared data directory: a month's pack made by one, and
a photo a citizen uploaded through one, are served by the other."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select
from yarl import URL

from admin.jobs.figures_jobs import close_month_now
from admin.passwords import make_hasher
from bot.conversation import Translator
from bot.main import build_app, job_deps
from bot.settings import DatabaseSettings, Settings
from storage.database import Database
from storage.models import Attachment, StaffRole
from storage.uow import UnitOfWork
from tests.deploy.harness import free_port
from tests.webchat.conftest import Browser
from tests.webchat.images import png

PASSWORD = "a password for the shared files test"
MONTH = "2026-01"
TRANSLATOR = Translator.load()


@pytest.fixture
async def two_workers(database: Database, tmp_path: Path) -> AsyncIterator[list[str]]:
    """Two workers sharing ``tmp_path / "shared"``; their base URLs."""
    ports = [free_port(), free_port()]
    runners = []
    for port in ports:
        settings = Settings(
            database=DatabaseSettings(url=database.url),
            data_dir=tmp_path / "shared",
            http={"port": port, "public_url": f"http://127.0.0.1:{port}"},  # type: ignore[arg-type]
            security={"secret_key": "one key for every worker"},  # type: ignore[arg-type]
            scheduler={"enabled": False},  # type: ignore[arg-type]
            classifier={"enabled": False},  # type: ignore[arg-type]
        )
        runner = web.AppRunner(build_app(settings), handle_signals=False, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
    async with UnitOfWork(database.sessions) as uow:
        uow.staff.add(
            login="analyst",
            password_hash=make_hasher().hash(PASSWORD),
            role=StaffRole.ADMIN,
            regions=[],
            display_name="Analyst",
            must_change_password=False,
        )
        await uow.commit()
    yield [f"http://127.0.0.1:{port}" for port in ports]
    for runner in runners:
        await runner.cleanup()


async def _logged_in(session: aiohttp.ClientSession, base: str) -> None:
    async with session.get(f"{base}/admin/login") as page:
        csrf = re.search(r'name="csrf" value="([^"]+)"', await page.text())
    assert csrf is not None
    form = {"login": "analyst", "password": PASSWORD, "csrf": csrf.group(1)}
    async with session.post(f"{base}/admin/login", data=form, allow_redirects=False) as answer:
        assert answer.status == 303, await answer.text()


async def test_a_pack_made_by_one_worker_is_served_by_the_other(
    two_workers: list[str], database: Database, tmp_path: Path
) -> None:
    _, other = two_workers
    # The month close as the scheduled job or `pikir month close` runs it on the first worker.
    settings = Settings(
        database=DatabaseSettings(url=database.url),
        data_dir=tmp_path / "shared",
        scheduler={"enabled": False},  # type: ignore[arg-type]
    )
    result = await close_month_now(job_deps(settings, database, None), MONTH, send=False)
    assert result.ran
    [pack] = (tmp_path / "shared" / "reports").glob(f"pikir-{MONTH}*.xlsx")

    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar, headers={"Accept-Language": "en"}) as session:
        await _logged_in(session, other)
        async with session.get(f"{other}/admin/reports/packs") as page:
            assert page.status == 200
            assert pack.name in await page.text()
        async with session.get(f"{other}/admin/reports/packs/{pack.name}") as download:
            assert download.status == 200
            assert await download.read() == pack.read_bytes()


async def test_a_photo_uploaded_through_one_worker_is_served_by_the_other(
    two_workers: list[str], database: Database, tmp_path: Path
) -> None:
    first, other = two_workers
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar, headers={"Accept-Language": "en"}) as session:
        # A citizen in the web chat on the first worker, up to the photo, which it stores.
        # A rating of 1 opens a case, whose photos staff may see.
        browser = Browser(session, URL(first), first)
        await browser.open("AST-01", "en")
        await browser.press_nth(0)
        await browser.press_nth(0)
        await browser.press("1")
        for _ in range(5):
            await browser.press(TRANSLATOR.text("en", "button.no"))
        assert browser.question["text"] == TRANSLATOR.text("en", "text.ask_low", limit=2000)
        await browser.say("The queue machine was broken")
        form = aiohttp.FormData()
        form.add_field("photo", png(), filename="photo.png", content_type="image/png")
        async with session.post(
            f"{first}/chat/upload", data=form, headers={"Origin": first}
        ) as response:
            assert response.status == 200, await response.text()
        await browser.until("messages")
        await browser.press(TRANSLATOR.text("en", "button.consent_no"))
        await browser.close()
        async with database.sessions() as db_session:
            attachment = (await db_session.scalars(select(Attachment))).one()
        stored = tmp_path / "shared" / str(attachment.location)
        assert stored.is_file()

        # Staff on the other worker open the case's photo: the same bytes.
        await _logged_in(session, other)
        async with session.get(f"{other}/admin/attachments/{attachment.id}") as photo:
            assert photo.status == 200, await photo.text()
            assert photo.headers["Content-Type"] == "image/png"
            assert await photo.read() == stored.read_bytes()
