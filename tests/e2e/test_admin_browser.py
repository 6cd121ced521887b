"""The staff panel in a real browser: headless Chromium (Debian's) driven by Playwright.

The whole service (``bot.main.build_app``: web chat, classifier, outbox worker, panel) runs on
a loopback port against the test database. A citizen on a phone leaves a rude-guard complaint
in the web chat; a reviewer logs in, finds it at the top of the queue, corrects a tag and
replies; the service's own outbox worker delivers the reply into the citizen's still open chat,
and the case page then shows it delivered. Screenshots of the queue, the case page and the
citizen's chat are left in ``test-artifacts/``.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from bot.conversation import Translator
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
from tests.browser import Citizen, last_question, phone_page

pytestmark = pytest.mark.e2e

PASSWORD = "reviewer password 2026"
COMPLAINT = "Охранник нагрубил и накричал на меня, мой номер 87011234567"
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


async def _prepare(database: Database) -> None:
    """A reviewer of Astana and two older, less severe cases there (from Telegram)."""
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


async def _delivered_reply(database: Database) -> OutboxMessage:
    """The only outbox row, once the worker has marked it sent (it does so right after sending)."""
    async with asyncio.timeout(10):
        while True:
            async with UnitOfWork(database.sessions) as uow:
                [message] = list(await uow.session.scalars(select(OutboxMessage)))
            if message.status == OutboxStatus.SENT:
                return message
            await asyncio.sleep(0.1)


async def citizen_complains(page: Page, service: str) -> str:
    """The web chat from the office's QR code, in Russian, to a receipt; returns the reference."""
    translator = Translator.load()
    citizen = Citizen(page, lambda key, **params: translator.text("ru", key, **params))
    t = citizen.t
    await page.goto(f"{service}/chat?office=AST-01")
    # The browser's language (Russian) is taken: straight to the service question.
    await citizen.expect_question(t("category.ask"))
    await citizen.choose()
    await citizen.expect_question(t("service.ask"))
    await citizen.choose()
    await citizen.expect_question(t("rating.ask"))
    await citizen.choose("1")
    for index in range(5):
        await expect(last_question(page)).to_contain_text(f"({index + 1}/5)")
        await citizen.choose(t("button.skip"))
    await citizen.expect_question(t("text.ask_low", limit=2000))
    await citizen.type(COMPLAINT)
    await citizen.expect_question(t("photo.ask"))
    await citizen.choose(t("button.skip_photo"))
    await citizen.expect_question(t("consent.ask"))
    await citizen.choose(t("button.consent_yes"))
    receipt = last_question(page)
    await expect(receipt).to_contain_text(re.compile(r"PK-[0-9A-Z]{4,}"))
    match = re.search(r"PK-[0-9A-Z]{4,}", await receipt.inner_text())
    assert match is not None
    return match.group(0)


async def test_reviewer_answers_a_web_citizen_and_the_answer_reaches_them(
    database: Database, service: str, chromium: Browser, artifacts_dir: Path
) -> None:
    await _prepare(database)
    citizen_page, citizen_errors = await phone_page(chromium, "ru")
    ref = await citizen_complains(citizen_page, service)

    context = await chromium.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    page = await context.new_page()
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
    # The classifier tagged the citizen's complaint; rudeness outranks the older two.
    first_row = await rows.nth(0).inner_text()
    assert ref in first_row and "Грубость" in first_row
    assert "[phone]" in first_row and "87011234567" not in first_row
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
    assert reply in await page.locator("ol.history").inner_text()

    # The service's outbox worker delivers it into the citizen's open chat, unprompted.
    staff = citizen_page.locator(".msg.staff")
    await expect(staff).to_contain_text(reply)
    await expect(staff).to_contain_text(ref)
    await citizen_page.screenshot(path=str(artifacts_dir / "admin-reply-in-webchat.png"))
    assert citizen_errors == []

    # … records the delivery, and the case page says so.
    message = await _delivered_reply(database)
    assert message.channel == Channel.WEB and message.text == reply
    await page.reload()
    history = await page.locator("ol.history").inner_text()
    assert "доставлено" in history and "не доставлено" not in history
    await page.screenshot(path=str(artifacts_dir / "admin-case.png"), full_page=True)

    async with UnitOfWork(database.sessions) as uow:
        [label] = list(await uow.session.scalars(select(Tag).where(Tag.source == TagSource.STAFF)))
    assert label.tag == "paperwork_error" and label.present and label.author_id is not None
    assert console_errors == []  # no CSP refusal, no missing file, no script error
    await context.close()
    await citizen_page.context.close()
