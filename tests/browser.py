"""Driving Debian's headless Chromium with Playwright, shared by every real-browser test.

Only the packaged browser is used (``/usr/bin/chromium``; never ``playwright install``), and a
citizen's side of the web chat is played the same way in the chat's and the panel's tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

CHROMIUM = "/usr/bin/chromium"
# No sandbox (tests run as root in a container) and nothing that phones home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
ACCEPT = {"kk": "kk-KZ,kk;q=0.9", "ru": "ru-RU,ru;q=0.9", "en": "en-US,en;q=0.9"}


def chromium_executable() -> str:
    """Debian's Chromium; missing, the test fails (CI installs it) instead of being skipped."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    return CHROMIUM


@asynccontextmanager
async def launch_chromium() -> AsyncIterator[Browser]:
    """Headless Chromium from the Debian package."""
    executable = chromium_executable()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def phone_page(
    chromium: Browser, language: str, *, ignore_https_errors: bool = False
) -> tuple[Page, list[str]]:
    """A phone-sized page whose browser prefers ``language``; console errors are collected.

    ``ignore_https_errors`` accepts a test server's self-signed certificate.
    """
    context = await chromium.new_context(
        ignore_https_errors=ignore_https_errors,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale=ACCEPT[language].split(",")[0],
        extra_http_headers={"Accept-Language": ACCEPT[language]},
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


def last_question(page: Page) -> Any:
    """The text of the chat's latest bot bubble."""
    return page.locator(".msg.bot").last.locator(".text")


async def tab_to(page: Page, label: str, limit: int = 25) -> None:
    """Press Tab until the focused element is the button called ``label``."""
    for _ in range(limit):
        focused = await page.evaluate("document.activeElement && document.activeElement.innerText")
        if (focused or "").strip() == label:
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"could not reach {label!r} with the keyboard")


class Citizen:
    """Answers the web chat's questions either with taps or with the keyboard alone.

    ``t(message_id, **params)`` gives the citizen's language's text of a message id.
    """

    def __init__(self, page: Page, t: Callable[..., str], keyboard: bool = False) -> None:
        self.page = page
        self.t = t
        self.keyboard = keyboard

    async def expect_question(self, text: str) -> None:
        await expect(last_question(self.page)).to_have_text(text)

    async def choose(self, label: str | None = None) -> None:
        """Press the button ``label`` of the current question (its first button if None)."""
        # The current question's buttons (an earlier message may keep a lasting one).
        buttons = self.page.locator(".msg.bot").last.locator(".buttons button")
        if self.keyboard:
            target = label or (await buttons.first.inner_text()).strip()
            await tab_to(self.page, target)
            await self.page.keyboard.press("Enter")
        elif label is None:
            await buttons.first.click()
        else:
            await self.page.get_by_role("button", name=label, exact=True).click()

    async def type(self, text: str) -> None:
        box = self.page.get_by_label(self.t("web.input_label"))
        if self.keyboard:
            await expect(box).to_be_focused()  # the text question moved the focus here
            await self.page.keyboard.insert_text(text)
            await self.page.keyboard.press("Enter")
        else:
            await box.fill(text)
            await self.page.get_by_role("button", name=self.t("web.send"), exact=True).click()
