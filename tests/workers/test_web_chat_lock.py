"""One web chat typed into through two workers at once: its events never overlap.

The web chat holds the chat's lock from before the event's transaction until its frame is
published. PostgreSQL's row lock alone serialises only the transactions: with a lock per
process, the second worker starts an event (and waits on the row) while the first is still
inside its own, and publishes while the next one runs. The test records, on each worker, when
an event got the chat and when it let it go, and finds no two such spans overlapping: the lock
in Redis is what makes them one at a time.

The two workers are two whole applications (``build_app``) in this process, each with its own
database pool, Redis client and locks, so the spans are read from one clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from bot.coordination.ports import ChatLocks
from bot.main import WEB_CHAT, build_app
from bot.settings import DatabaseSettings, Settings
from tests.coordination.conftest import REDIS_URL
from tests.deploy.harness import free_port
from tests.webchat.conftest import Browser

pytestmark = [pytest.mark.slow]
TEXTS_PER_PAGE = 15
SEED = 20261206


@dataclass(frozen=True)
class Span:
    """From when one event of a worker got the chat to when it let it go."""

    worker: int
    start: float
    end: float


class RecordedLocks:
    """A worker's chat locks, as they are, recording each holder's span."""

    def __init__(self, inner: ChatLocks, worker: int, spans: list[Span]) -> None:
        self._inner = inner
        self._worker = worker
        self._spans = spans

    @contextlib.asynccontextmanager
    async def hold(self, chat: str, order: int | None = None) -> AsyncIterator[None]:
        """Hold ``chat`` through the worker's own locks; the span inside them is recorded."""
        async with self._inner.hold(chat, order):
            start = time.monotonic()
            try:
                yield
            finally:
                self._spans.append(Span(self._worker, start, time.monotonic()))


@pytest.fixture
async def two_workers(
    empty_postgres: str, tmp_path: Path
) -> AsyncIterator[tuple[list[str], list[Span]]]:
    """Two workers sharing PostgreSQL, Redis and the secret key; their base URLs and the
    spans of the web chat's events on both."""
    prefix = f"pikir-test:{secrets.token_hex(4)}:"
    spans: list[Span] = []
    runners, bases = [], []
    try:
        # One after the other: the first migrates and loads the reference data.
        for worker in range(2):
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            settings = Settings(
                database=DatabaseSettings(url=empty_postgres),
                data_dir=tmp_path / "shared",
                http={"port": port, "public_url": base},  # type: ignore[arg-type]
                security={"secret_key": "one key for every worker"},  # type: ignore[arg-type]
                redis={"url": REDIS_URL, "prefix": prefix},  # type: ignore[arg-type]
                scheduler={"enabled": False},  # type: ignore[arg-type]
                classifier={"enabled": False},  # type: ignore[arg-type]
                # The pages type faster than a person; the flood guard is not tested here.
                webchat={"flood_burst": 1000},  # type: ignore[arg-type]
            )
            app = build_app(settings)
            conversations = app[WEB_CHAT].conversations
            conversations._locks = RecordedLocks(conversations._locks, worker, spans)
            runner = web.AppRunner(app, handle_signals=False, access_log=None)
            await runner.setup()
            runners.append(runner)
            await web.TCPSite(runner, "127.0.0.1", port).start()
            bases.append(base)
        yield bases, spans
    finally:
        for runner in runners:
            await runner.cleanup()


async def _type_all(page: Browser, texts: list[str], gaps: random.Random) -> None:
    """Send every text without waiting for the answers, 0–20 ms apart."""
    for text in texts:
        await page.send({"type": "text", "text": text})
        await asyncio.sleep(gaps.uniform(0, 0.02))


async def test_events_of_one_web_chat_on_two_workers_are_handled_one_at_a_time(
    two_workers: tuple[list[str], list[Span]],
) -> None:
    bases, spans = two_workers
    gaps = random.Random(SEED)
    # One cookie jar: both pages are the same browser, so the same conversation.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        first, second = (Browser(session, URL(base), base) for base in bases)
        await first.open("ALA-01")
        await second.open(expect_start=False)
        assert second.messages == first.messages  # the same conversation on the other worker
        typed = {
            page: [f"Шаг {n} со страницы {name}" for n in range(TEXTS_PER_PAGE)]
            for page, name in ((first, "A"), (second, "B"))
        }
        await asyncio.gather(*(_type_all(page, texts, gaps) for page, texts in typed.items()))
        errors = await asyncio.gather(
            first.answered(TEXTS_PER_PAGE), second.answered(TEXTS_PER_PAGE)
        )
        await first.close()
        await second.close()

    assert errors == [[], []]
    # The opening's start on the first worker, then every text on the worker its page is on.
    assert (
        sorted(span.worker for span in spans) == [0] * (TEXTS_PER_PAGE + 1) + [1] * TEXTS_PER_PAGE
    )
    # Each event began after every event that began before it had ended.
    overlapping = []
    ended = 0.0
    for span in sorted(spans, key=lambda span: span.start):
        if span.start < ended:
            overlapping.append(span)
        ended = max(ended, span.end)
    assert overlapping == [], f"{len(overlapping)} events began while another held the chat"
