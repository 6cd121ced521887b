"""What an operator's monitoring and a reverse proxy see: /healthz, /readyz and /metrics."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import text
from yarl import URL

from bot.main import build_app
from bot.settings import ClassifierSettings, DatabaseSettings, SchedulerSettings, Settings
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
    )
    runner = web.AppRunner(build_app(settings))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield URL(f"http://127.0.0.1:{runner.addresses[0][1]}")
    await runner.cleanup()


def _sample(exposition: str, name: str, **labels: str) -> float:
    """The value of one sample of the text exposition (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if wanted else "")
    match = re.search(rf"^{pattern} ([0-9.e+-]+)$", exposition, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def test_health_readiness_and_metrics_follow_the_service(
    service_url: URL, database: Database
) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(service_url / "healthz") as response:
            assert response.status == 200 and await response.json() == {"status": "ok"}
        async with session.get(service_url / "readyz") as response:
            assert response.status == 200
            assert await response.json() == {"status": "ready", "database": "ok", "schema": "ok"}

        async with session.get(service_url / "metrics") as response:
            assert response.headers["Content-Type"].startswith("text/plain")
            before = await response.text()
        assert _sample(before, "pikir_events_total", channel="web", result="ok") == 0

        browser = Browser(session, service_url, f"http://127.0.0.1:{service_url.port}")
        await browser.load("?office=AST-01")
        await browser.connect()
        await browser.send({"type": "open", "office": "AST-01", "lang": "en"})
        await browser.until("messages")
        async with UnitOfWork(database.sessions) as uow:
            uow.outbox.enqueue(
                channel=Channel.TELEGRAM,  # no bot configured: it stays pending
                address="12345",
                kind="case_reply",
                text="waiting",
                payload={},
            )
            await uow.commit()

        async with session.get(service_url / "metrics") as response:
            after = await response.text()
        assert _sample(after, "pikir_events_total", channel="web", result="ok") >= 1
        assert _sample(after, "pikir_event_seconds_count", channel="web") >= 1
        assert _sample(after, "pikir_outbox_pending") == 1
        assert "pikir_db_pool_in_use" in after and "pikir_job_runs_total" in after
        await browser.close()

        # A schema the code does not know (another version migrated it): not ready.
        async with database.engine.begin() as connection:
            head = (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar_one()
            await connection.execute(text("UPDATE alembic_version SET version_num = 'elsewhere'"))
        try:
            async with session.get(service_url / "readyz") as response:
                assert response.status == 503
                body = await response.json()
            assert body["status"] == "unavailable" and body["database"] == "ok"
            assert body["schema"] == f"at elsewhere, expected {head}"
        finally:
            async with database.engine.begin() as connection:
                await connection.execute(
                    text("UPDATE alembic_version SET version_num = :head"), {"head": head}
                )
