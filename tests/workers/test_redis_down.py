"""A worker whose Redis is unreachable: it starts and says so, ``/readyz`` fails so the proxy
sends it nothing, and an update that reaches it anyway is refused (fail closed), not handled
without its chat's lock; Telegram redelivers it, so nothing is lost. Redis back: ready again.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select
from structlog.testing import capture_logs

from bot.settings import RedisSettings
from storage.database import Database
from storage.models import Conversation
from tests.e2e.conftest import WEBHOOK_SECRET, Service, free_port, make_settings

pytestmark = pytest.mark.e2e


async def _get(url: str) -> tuple[int, dict[str, str]]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


async def test_a_worker_without_its_redis_is_not_ready_and_handles_nothing(
    database: Database, database_url: str, emulator: str, tmp_path: Path
) -> None:
    redis_port = free_port()  # a Redis of its own, started later: down at first
    settings = make_settings(database_url, emulator, "webhook", tmp_path).model_copy(
        update={"redis": RedisSettings(url=f"redis://127.0.0.1:{redis_port}/0")}  # type: ignore[arg-type]
    )
    service = Service(settings)
    with capture_logs() as logs:
        await service.start()
    redis: asyncio.subprocess.Process | None = None
    base = f"http://127.0.0.1:{settings.http.port}"
    try:
        assert any(entry["event"] == "redis.unreachable" for entry in logs)
        status, body = await _get(f"{base}/readyz")
        assert status == 503
        assert body["redis"].startswith("unreachable") and body["database"] == "ok"

        update = {
            "update_id": 501,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": 4242, "type": "private", "first_name": "Citizen"},
                "from": {"id": 4242, "is_bot": False, "first_name": "C", "language_code": "ru"},
                "text": "/start ALA-01",
            },
        }
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{base}/telegram/webhook", json=update, headers=headers) as response,
        ):
            assert response.status >= 500  # Telegram delivers it again later
        async with database.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Conversation)) == 0

        redis = await asyncio.create_subprocess_exec(
            *("redis-server", "--port", str(redis_port), "--save", "", "--appendonly", "no"),
            stdout=asyncio.subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while (await _get(f"{base}/readyz"))[0] != 200:
            assert time.monotonic() < deadline, "not ready again after Redis came back"
            await asyncio.sleep(0.2)
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{base}/telegram/webhook", json=update, headers=headers) as response,
        ):
            assert response.status == 200  # the redelivery is handled
        async with database.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Conversation)) == 1
    finally:
        await service.stop()
        if redis is not None:
            redis.terminate()
            await asyncio.wait_for(redis.wait(), timeout=10)
