"""The staff panel in a real browser: headless Chromium (Debian's) driven by Playwright.

The whole service (``bot.main.build_app``) runs on a loopback port against the test database.
A reviewer logs in, opens the top case, corrects a tag and replies; the reply lands in the outbox
with its delivery status on the case page. Screenshots of the queue and the case page are left
in ``test-artifacts/``.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import Browser, async_playwright
from sqlalchemy import select

from bot.main import build_app
from bot.settings import Settings
from storage.database import Database
from storage.intake import FeedbackDraft, TagScores, build_feedback
from storage.models import (
    Channel,
    Language,
    OutboxMessage,
    OutboxStatus,
    Respondent,
    StaffRole,
    Tag,
    TagSource,
)
from storage.types import utcnow
from storage.uow import UnitOfWork

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "reviewer password 2026"
TAGS = ("corruption", "hidden_service", "rudeness", "paperwork_error", "misinformation", "delay")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def service(database: Database, database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """``pikir``'s application on a free loopback port, on the test database."""
    port = _free_port()
    settings = Settings(
        database={"url": database_url},
        http={"host": "127.0.0.1", "port": port, "public_url": f"http://127.0.0.1:{port}"},
        scheduler={"enabled": False},
        data_dir=tmp_path / "var",
    )
    runner = web.AppRunner(build_app(settings, secret_key=b"e2e" * 11))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


async def _prepare(database: Database) -> None:
    """A reviewer of Astana and three cases there; the rudeness one is the oldest."""
    from argon2 import PasswordHasher

    async with UnitOfWork(database.sessions) as uow:
        uow.staff.add(
            login="aigerim",
            password_hash=PasswordHasher(time_cost=1, memory_cost=1024).hash(PASSWORD),
            role=StaffRole.REVIEWER,
            regions=["astana"],
            display_name="Айгерим",
        )
        office = await uow.reference.office_by_code("AST-01")
        assert office is not None
        respondent = Respondent(
            channel=Channel.TELEGRAM, subject_hash="e2e-citizen", reply_address="100500"
        )
        uow.conversations.add_respondent(respondent)
        await uow.feedback.flush()
        texts = [
            ("Охранник накричал на меня, мой номер 87011234567", ("rudeness",), 30),
            ("Очень долго ждала, 3 часа", ("delay",), 20),
            ("Неправильно вписали фамилию", ("paperwork_error",), 10),
        ]
        for text, labels, hours_ago in texts:
            uow.feedback.add(
                build_feedback(
                    FeedbackDraft(
                        channel=Channel.TELEGRAM,
                        language=Language.RU,
                        office_id=office.id,
                        region_code=office.region_code,
                        rating=1,
                        text=text,
                        respondent_id=respondent.id,
                        created_at=utcnow() - timedelta(hours=hours_ago),
                    ),
                    TagScores(
                        scores={t: (0.88 if t in labels else 0.03) for t in TAGS},
                        labels=frozenset(labels),
                        model_version="e2e",
                    ),
                )
            )
        await uow.commit()


async def test_reviewer_works_the_top_case_in_a_browser(
    database: Database, service: str, browser: Browser, artifacts_dir: Path
) -> None:
    await _prepare(database)
    page = await browser.new_page(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    console_errors: list[str] = []
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)

    await page.goto(f"{service}/admin/queue")
    assert "/admin/login" in page.url  # not logged in yet
    await page.fill("input[name=login]", "aigerim")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit] >> text=Войти")
    await page.wait_for_url("**/admin/queue")
    assert await page.locator("h1").inner_text() == "Очередь обращений"
    rows = page.locator("table.queue tbody tr")
    assert await rows.count() == 3
    first_row = await rows.nth(0).inner_text()
    assert "Грубость" in first_row and "[phone]" in first_row and "87011234567" not in first_row
    # The stylesheet loaded under the CSP (no inline styles or scripts anywhere).
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(246, 248, 250)"
    await page.screenshot(path=str(artifacts_dir / "admin-queue.png"), full_page=True)

    await rows.nth(0).locator("a").first.click()
    await page.wait_for_url("**/admin/cases/*")
    assert "[phone]" in await page.locator("blockquote.citizen-text").inner_text()
    await page.check("input[name=tag_paperwork_error][value='1']")
    await page.click("button >> text=Сохранить теги")
    await page.wait_for_selector("text=Теги исправлены.")
    reply = "Здравствуйте! Охраннику сделано замечание. Спасибо, что сообщили."
    await page.fill("textarea[name=reply]", reply)
    await page.click("button >> text=Отправить ответ")
    await page.wait_for_selector("text=Ответ поставлен в очередь на отправку гражданину.")
    history = page.locator("ol.history")
    assert reply in await history.inner_text()
    assert "ожидает отправки" in await history.inner_text()
    await page.screenshot(path=str(artifacts_dir / "admin-case.png"), full_page=True)

    async with UnitOfWork(database.sessions) as uow:
        [message] = list(await uow.session.scalars(select(OutboxMessage)))
        [label] = list(await uow.session.scalars(select(Tag).where(Tag.source == TagSource.STAFF)))
    assert message.address == "100500" and message.channel == Channel.TELEGRAM
    assert message.text == reply and message.status == OutboxStatus.PENDING
    assert label.tag == "paperwork_error" and label.present and label.author_id is not None

    # The outbox worker (another part of the service) reports the delivery; the page shows it.
    async with UnitOfWork(database.sessions) as uow:
        row = await uow.session.get(OutboxMessage, message.id)
        assert row is not None
        row.status, row.attempts, row.sent_at = OutboxStatus.SENT, 1, utcnow()
        await uow.commit()
    await page.reload()
    assert "доставлено" in await page.locator("ol.history").inner_text()
    assert not [e for e in console_errors if "Content Security Policy" in e], console_errors
    await page.close()
