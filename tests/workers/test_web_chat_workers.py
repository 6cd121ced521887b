"""One web conversation open in two pages, each page's WebSocket on another worker (two
``pikir serve`` processes sharing PostgreSQL and Redis), both typing at once.

The chat's lock is in Redis, so the two workers take the conversation's events one at a time:
every text is handled once, each page's texts keep their order, and each text is answered
before the next one is taken (its bubble and its answer stand together in the history).

On PostgreSQL the conversation's row is also locked for the event's transaction, which alone
serialises the events: with a lock per process this test passes as well. It guards the
whole path across workers: cookie, history, replies, rate guards, the lock in Redis
(``test_web_chat_lock`` shows what only the lock in Redis gives).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from tests.deploy.harness import (
    UnitWorker,
    free_port,
    json_environment,
    running_units,
    shared_settings,
)
from tests.webchat.conftest import Browser

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
TEXTS_PER_PAGE = 15


@pytest.fixture
def web_workers(empty_postgres: str, tmp_path: Path) -> Iterator[list[UnitWorker]]:
    """Two workers serving the web chat, sharing the database, Redis and the secret key."""
    environment_file = tmp_path / "pikir.env"
    environment_file.write_text(
        json_environment(
            {
                **shared_settings(empty_postgres, tmp_path / "shared"),
                "PIKIR_CLASSIFIER__ENABLED": "false",
                "PIKIR_SCHEDULER__ENABLED": "false",
                # Both pages type faster than a person; the flood guard is not tested here.
                "PIKIR_WEBCHAT__FLOOD_BURST": "1000",
                "PIKIR_LOG_LEVEL": "WARNING",
            }
        )
    )
    with running_units([free_port(), free_port()], environment_file) as started:
        yield started


def _page(session: aiohttp.ClientSession, worker: UnitWorker) -> Browser:
    base = f"http://127.0.0.1:{worker.port}"
    return Browser(session, URL(base), base)


async def _type_all(page: Browser, texts: list[str]) -> None:
    """Send every text without waiting for the answers."""
    for text in texts:
        await page.send({"type": "text", "text": text})
        await asyncio.sleep(0.005)


async def test_one_web_chat_typed_into_on_two_workers_at_once_keeps_every_step_in_order(
    web_workers: list[UnitWorker],
) -> None:
    # One cookie jar: both pages are the same browser, so the same conversation (cookies are
    # per host, not per port; unsafe: the jar keeps them for an address like 127.0.0.1).
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        first, second = (_page(session, worker) for worker in web_workers)
        await first.open("ALA-01")
        await second.open(expect_start=False)
        assert second.messages == first.messages  # the same conversation on the other worker
        typed = {
            page: [f"Шаг {n} со страницы {name}" for n in range(TEXTS_PER_PAGE)]
            for page, name in ((first, "A"), (second, "B"))
        }
        await asyncio.gather(*(_type_all(page, texts) for page, texts in typed.items()))

        errors = await asyncio.gather(
            first.answered(TEXTS_PER_PAGE), second.answered(TEXTS_PER_PAGE)
        )
        await first.close()
        await second.close()
        reader = _page(session, web_workers[0])
        await reader.open(expect_start=False)
        history = reader.messages
        await reader.close()

    assert errors == [[], []]
    citizen = [str(m["text"]) for m in history if m["from"] == "citizen"]
    for texts in typed.values():
        assert [text for text in citizen if text in texts] == texts  # each once, in its order
    assert sorted(citizen) == sorted(typed[first] + typed[second])  # nothing else, nothing lost
    # Each bubble is followed by its answer before the next bubble: no event interleaved.
    authors = [m["from"] for m in history]
    start = authors.index("citizen")
    assert all(
        authors[i + 1] == "bot" for i in range(start, len(authors)) if authors[i] == "citizen"
    ), authors
    for worker in web_workers:
        worker.stop()
    assert all("Traceback" not in "".join(worker.log) for worker in web_workers)
