"""The web chat in a real browser: Debian's Chromium, headless, driven by Playwright.

A citizen with a phone completes a feedback from an office's QR code in Kazakh (keyboard only),
Russian and English, reloading the page in the middle; markup they type stays text; axe-core
finds no serious or critical accessibility violation; the embeddable widget opens the chat, and
in another site's frame it resumes from its partitioned third-party cookie.
Screenshots of the finished conversations are left in ``test-artifacts/``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Browser, FilePayload, FrameLocator, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.outbox import OutboxWorker, RateLimiter
from bot.settings import WebChatSettings
from bot.web.app import web_sender
from bot.web.identity import chat_key
from storage.models import Channel, Feedback
from storage.uow import UnitOfWork
from tests.browser import Citizen, last_question, phone_page
from tests.webchat.conftest import SECRET, ChatServer, StartChat
from tests.webchat.images import png
from tests.webchat.tls import self_signed_context

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("backend", ["postgresql"])]

AXE = Path(__file__).resolve().parents[1] / "e2e" / "node_modules" / "axe-core" / "axe.min.js"
XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>bold</b>'


async def check_accessibility(page: Page) -> None:
    """axe-core in the page: no serious or critical violation."""
    await page.evaluate(AXE.read_text(encoding="utf-8"))
    result = await page.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map("
        "v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))})))"
    )
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    assert bad == [], bad


@pytest.mark.parametrize(("language", "keyboard"), [("kk", True), ("ru", False), ("en", False)])
async def test_a_feedback_from_a_qr_code_on_a_phone(
    start_chat: StartChat,
    chromium: Browser,
    artifacts_dir: Path,
    language: str,
    keyboard: bool,
) -> None:
    server = await start_chat()
    page, errors = await phone_page(chromium, language)
    citizen = Citizen(page, lambda key, **params: server.t(language, key, **params), keyboard)
    t = citizen.t
    await page.goto(str(server.url / "chat") + "?office=AST-01")
    assert await page.evaluate("document.documentElement.lang") == language
    await expect(page.get_by_role("log")).to_have_attribute("aria-live", "polite")

    # The browser's language stands in for the language question; the others are one tap away.
    await citizen.expect_question(t("category.ask"))
    await expect(page.locator(".msg.bot .buttons button.lasting")).to_have_count(2)
    await citizen.choose()
    await citizen.expect_question(t("service.ask"))
    await citizen.choose()
    await citizen.expect_question(t("rating.ask"))

    # The page is reloaded in the middle of the feedback: same step, same history.
    bubbles = await page.locator(".msg").count()
    await page.reload()
    await citizen.expect_question(t("rating.ask"))
    assert await page.locator(".msg").count() == bubbles
    assert "office=" not in page.url

    await citizen.choose("4")
    for index in range(5):
        await citizen.expect_question(f"({index + 1}/5) " + last_text(server, language, index))
        await citizen.choose(t("button.yes"))
    await citizen.expect_question(t("text.ask", limit=2000))
    await citizen.type(XSS)
    await citizen.expect_question(t("photo.ask"))
    # What the citizen typed is shown as text, never as markup.
    mine = page.locator(".msg.citizen .text").last
    await expect(mine).to_have_text(XSS)
    assert await page.locator(".log img, .log b, .log script").count() == 0
    assert await page.evaluate("window.__pwned === undefined")

    if language == "ru":  # a photo from the phone, through the upload
        photo = FilePayload(name="queue.png", mimeType="image/png", buffer=png())
        await page.set_input_files("#photo", files=[photo])
        await expect(page.locator(".msg.citizen .text").last).to_have_text(t("web.photo_sent"))
    else:
        await citizen.choose(t("button.skip_photo"))
    await citizen.expect_question(t("consent.ask"))
    await citizen.choose(t("button.consent_yes"))
    await expect(last_question(page)).to_contain_text(re.compile(r"PK-[0-9A-Z]{4,}"))

    async with server.database.sessions() as session:
        feedback = (
            await session.scalars(select(Feedback).options(selectinload(Feedback.attachments)))
        ).one()
    assert feedback.channel is Channel.WEB and feedback.language.value == language
    assert feedback.rating == 4 and feedback.text == XSS
    assert len(feedback.attachments) == (1 if language == "ru" else 0)
    await expect(last_question(page)).to_contain_text(feedback.ref)

    if language == "en":
        await staff_reply_arrives_live(page, server, feedback.ref)
    await check_accessibility(page)
    await page.screenshot(path=str(artifacts_dir / f"webchat-{language}.png"))
    assert errors == []  # no CSP refusal, no missing file, no script error
    await page.context.close()


def last_text(server: ChatServer, language: str, index: int) -> str:
    keys = [
        "criteria.politeness",
        "criteria.waiting",
        "criteria.information",
        "criteria.result",
        "criteria.extra_payment",
    ]
    return server.t(language, keys[index])


async def staff_reply_arrives_live(page: Page, server: ChatServer, ref: str) -> None:
    """A staff answer sent through the outbox appears in the open page by itself."""
    cookies = await page.context.cookies()
    token = next(c["value"] for c in cookies if c["name"] == "pikir_chat")
    async with UnitOfWork(server.database.sessions) as uow:
        uow.outbox.enqueue(
            channel=Channel.WEB,
            address=chat_key(SECRET, token),
            kind="case_reply",
            text="We have spoken to the operator. Thank you.",
            payload={"ref": ref, "language": "en"},
        )
        await uow.commit()
    sessions = server.database.sessions
    worker = OutboxWorker(sessions, {"web": web_sender(server.runtime)}, RateLimiter())
    assert await worker.run_once() == 1
    staff = page.locator(".msg.staff")
    await expect(staff).to_contain_text("We have spoken to the operator. Thank you.")
    await expect(staff).to_contain_text(server.t("en", "web.staff_reply", ref=ref))


class AgencySite:
    """An agency's page with the widget's one-line snippet, served at ``origin``."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.snippet = ""
        self.chat: ChatServer
        self.origin = ""
        self._runner: web.AppRunner | None = None

    async def page(self, _request: web.Request) -> web.Response:
        html = (
            '<!doctype html><html lang="en"><title>Agency</title><link rel="icon" href="data:,">'
            f"<body><h1>eGov</h1>{self.snippet}"
        )
        return web.Response(text=html, content_type="text/html")

    async def start(self) -> str:
        """Start serving; the site's origin."""
        app = web.Application()
        app.router.add_get("/", self.page)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.origin = f"http://{self.host}:{self._runner.addresses[0][1]}"
        return self.origin

    def embed(self, chat: ChatServer) -> None:
        """Put the widget of ``chat`` on the page, as the README tells an agency to."""
        self.chat = chat
        self.snippet = (
            f'<script src="{chat.url}/chat/widget.js" data-office="AST-01" async></script>'
        )

    async def open_widget(self, page: Page) -> FrameLocator:
        """Load the agency's page and open the widget (English); the widget's frame."""
        await page.goto(self.origin + "/")
        await page.get_by_role("button", name=self.chat.t("en", "web.widget_open")).click()
        title = self.chat.t("en", "web.widget_frame")
        return page.frame_locator(f'iframe[title="{title}"]')

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@asynccontextmanager
async def embedded_chat(
    start_chat: StartChat, host: str, **options: Any
) -> AsyncIterator[tuple[AgencySite, ChatServer]]:
    """An agency's site on ``host`` with the widget of a chat that allows it to frame it."""
    agency = AgencySite(host)
    origin = await agency.start()
    try:
        server = await start_chat(webchat=WebChatSettings(embed_origins=[origin]), **options)
        agency.embed(server)
        yield agency, server
    finally:
        await agency.stop()


async def test_the_widget_snippet_opens_the_chat_in_a_frame(
    start_chat: StartChat, chromium: Browser
) -> None:
    async with embedded_chat(start_chat, "127.0.0.1") as (agency, server):
        page, errors = await phone_page(chromium, "en")
        frame = await agency.open_widget(page)
        toggle = page.locator("#pikir-chat-button")
        await expect(toggle).to_have_attribute("aria-expanded", "true")
        await expect(toggle).to_have_text(server.t("en", "web.widget_close"))
        await expect(frame.locator(".msg.bot .text").last).to_have_text(
            server.t("en", "category.ask")
        )
        await toggle.click()
        await expect(page.locator("#pikir-chat-frame")).to_be_hidden()
        await expect(toggle).to_have_attribute("aria-expanded", "false")
        assert not errors, errors
        await page.context.close()


async def test_in_another_sites_frame_the_chat_resumes_from_its_partitioned_cookie(
    start_chat: StartChat, chromium: Browser, tmp_path: Path
) -> None:
    # The agency's page is on http://localhost, the chat on https://127.0.0.1: different
    # sites, so the chat's cookie is a third-party cookie, sent only as SameSite=None and
    # Secure, and kept in a jar of its own for this embedding site (Partitioned).
    async with embedded_chat(
        start_chat,
        "localhost",
        ssl=self_signed_context(tmp_path),
        public_origin="https://pikir.example",
    ) as (agency, server):
        page, errors = await phone_page(chromium, "en", ignore_https_errors=True)
        frame = await agency.open_widget(page)
        await expect(frame.locator(".msg.bot .text").last).to_have_text(
            server.t("en", "category.ask")
        )
        await frame.get_by_role("button", name=server.t("en", "button.other_service")).click()
        await expect(frame.locator(".msg.bot .text").last).to_have_text(
            server.t("en", "rating.ask")
        )
        (cookie,) = [c for c in await page.context.cookies() if c["name"] == "pikir_chat"]
        assert (cookie["sameSite"], cookie["secure"], cookie["httpOnly"]) == ("None", True, True)
        assert cookie.get("partitionKey") == "http://localhost"

        # The agency's page reloaded: the same conversation.
        frame = await agency.open_widget(page)
        await expect(frame.locator(".msg.bot .text").last).to_have_text(
            server.t("en", "rating.ask")
        )
        await expect(frame.locator(".msg.citizen .text")).to_have_text(
            [server.t("en", "button.other_service")]
        )

        # The chat opened directly (first-party) does not see the embedded chat's cookie.
        await page.goto(f"{server.url}/chat")
        await expect(last_question(page)).to_have_text(server.t("en", "region.ask"))
        await expect(page.locator(".msg.citizen")).to_have_count(0)
        assert not errors, errors
        await page.context.close()


async def test_a_frame_whose_cookie_the_browser_blocks_says_so_and_offers_a_tab(
    start_chat: StartChat, chromium: Browser
) -> None:
    # Over plain HTTP the embedded chat's cookie cannot be SameSite=None (that needs Secure),
    # so in another site's frame Chromium does not send it: as a browser that blocks
    # third-party cookies would.
    async with embedded_chat(start_chat, "localhost") as (agency, server):
        page, errors = await phone_page(chromium, "en")
        frame = await agency.open_widget(page)
        status = frame.locator("#status")
        await expect(status).to_contain_text(server.t("en", "web.cookie_blocked"))
        link = status.get_by_role("link", name=server.t("en", "web.open_in_tab"))
        await expect(link).to_have_attribute("target", "_blank")
        href = await link.get_attribute("href")
        assert href == f"{server.url}/chat?office=AST-01", href
        await page.wait_for_timeout(1500)  # no reconnecting loop replaces the message
        await expect(status).to_contain_text(server.t("en", "web.cookie_blocked"))

        tab = await page.context.new_page()  # the offered tab: a first-party chat that works
        await tab.goto(href)
        await expect(last_question(tab)).to_have_text(server.t("en", "category.ask"))
        assert not errors, errors
        await page.context.close()


async def test_text_typed_at_a_button_is_kept_and_the_receipt_shows_the_status(
    start_chat: StartChat, chromium: Browser, artifacts_dir: Path
) -> None:
    server = await start_chat()
    page, errors = await phone_page(chromium, "ru")
    citizen = Citizen(page, lambda key, **params: server.t("ru", key, **params))
    t = citizen.t
    await page.goto(str(server.url / "chat") + "?office=AST-01")
    await citizen.expect_question(t("category.ask"))
    # Typed where a button is expected: kept, and the citizen is told so in Russian.
    await citizen.type("Оператор нагрубил")
    await citizen.expect_question(f"{t('text.kept')}\n\n{t('category.ask')}")
    await citizen.choose(t("button.other_service"))
    await citizen.choose("2")
    for _ in range(5):
        await citizen.choose(t("button.skip"))
    await citizen.expect_question(
        f"{t('text.ask_low', limit=2000)}\n\n{t('text.offer_kept', text='Оператор нагрубил')}"
    )
    await page.screenshot(path=str(artifacts_dir / "webchat-kept-text.png"))
    await citizen.choose(t("button.keep_text"))
    await citizen.expect_question(t("photo.ask"))
    await citizen.choose(t("button.skip_photo"))
    await citizen.choose(t("button.consent_no"))
    receipt = page.locator(".msg.bot").last
    ref = receipt.locator(".ref").first
    await expect(ref).to_have_text(re.compile(r"^PK-[0-9A-Z]{8}$"))
    # The reference number is one piece, even on a narrow screen.
    await page.set_viewport_size({"width": 260, "height": 700})
    assert await ref.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"
    assert await ref.evaluate("e => e.getClientRects().length") == 1
    number = await ref.inner_text()

    await citizen.choose(t("button.status"))
    # A low rating opened a case: the status says it waits for review.
    await citizen.expect_question(t("status.line", ref=number, state=t("status.new")))
    await page.screenshot(path=str(artifacts_dir / "webchat-status.png"), full_page=True)
    async with server.database.sessions() as session:
        feedback = (await session.scalars(select(Feedback))).one()
    assert feedback.ref == number and feedback.text == "Оператор нагрубил"
    assert errors == []
    await page.context.close()
