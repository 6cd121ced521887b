"""The web chat inside the whole service, wired by the composition root."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from yarl import URL

from bot.main import build_app
from bot.settings import (
    ClassifierSettings,
    DatabaseSettings,
    SchedulerSettings,
    Settings,
    WebChatSettings,
)
from bot.web.identity import chat_key
from storage.database import Database
from storage.models import Channel
from storage.uow import UnitOfWork
from tests.webchat.conftest import Browser


@pytest.fixture
async def service_url(database: Database, database_url: str, tmp_path: Path) -> AsyncIterator[URL]:
    """``pikir serve``'s application on the test database, listening on a free port."""
    settings = Settings(
        database=DatabaseSettings(url=database_url),
        data_dir=tmp_path / "var",
        scheduler=SchedulerSettings(enabled=False),
        classifier=ClassifierSettings(enabled=False),
        webchat=WebChatSettings(embed_origins=["https://egov.example"]),
    )
    runner = web.AppRunner(build_app(settings))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield URL(f"http://127.0.0.1:{runner.addresses[0][1]}")
    await runner.cleanup()


async def test_the_service_serves_the_chat_and_delivers_staff_replies_live(
    service_url: URL, database: Database, tmp_path: Path
) -> None:
    import aiohttp

    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        browser = Browser(session, service_url, f"http://127.0.0.1:{service_url.port}")
        response = await browser.load("?office=AST-01")
        assert (
            "frame-ancestors 'self' https://egov.example"
            in response.headers["Content-Security-Policy"]
        )
        async with session.get(service_url / "chat") as page_response:
            page = await page_response.text()
        for asset in re.findall(r'(?:src|href)="(/chat/static/[^"]+)"', page):
            async with session.get(service_url.join(URL(asset))) as asset_response:
                assert asset_response.status == 200, asset
        async with session.get(service_url / "chat/widget.js") as widget:
            script = await widget.text()
        assert '"chatPath": "/chat"' in script and "/*CONFIG*/" not in script
        await browser.connect()
        await browser.send({"type": "open", "office": "AST-01", "lang": "en"})
        await browser.until("history")
        await browser.until("messages")
        # A staff reply queued for this chat is sent by the service's own outbox worker.
        async with UnitOfWork(database.sessions) as uow:
            uow.outbox.enqueue(
                channel=Channel.WEB,
                address=chat_key(
                    (tmp_path / "var" / "secret_key").read_bytes().strip(), browser.cookie() or ""
                ),
                kind="case_reply",
                text="Reply through the real worker",
                payload={"ref": "PK-TEST", "language": "en"},
            )
            await uow.commit()
        frame = await browser.until("messages", wait=10)
        assert frame["messages"][0]["from"] == "staff"
        assert frame["messages"][0]["text"].endswith("Reply through the real worker")
        await browser.close()
