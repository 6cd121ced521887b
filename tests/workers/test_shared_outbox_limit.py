"""Three ``pikir serve`` processes on one database and one Redis send within one limit together.

Each worker alone kept the configured rate, so several sent at a multiple of it and Telegram
answered 429. The emulator enforces Telegram's limits here (30 a second, one a second per chat)
and the workers run as a deployment runs them, with the default rate settings: no 429, and
nearly the whole allowance is used.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.harness import free_port, start_workers, stop_all
from tests.workers.outbox_processes import (
    LIMIT,
    TOKEN,
    accepted_rate,
    busiest_second,
    deliveries,
    emulator_call,
    enqueue_replies,
    limit_emulator,
    outbox_settings,
    reply_text,
    wait_delivered,
)

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
WORKERS = 3
# Ten seconds at the limit, two messages per chat: both limits are met.
MESSAGES = 300
CHATS = 150


@pytest.fixture
def limited_emulator(emulator: str) -> Iterator[str]:
    """The session's emulator with Telegram's limits on for this test, and off again after:
    the tests after it send bursts to one chat that the limits would refuse."""
    limit_emulator(emulator)
    yield emulator
    emulator_call(emulator, "/_test/limits", {})


async def test_three_worker_processes_sharing_redis_keep_telegrams_limits_at_the_default_setting(
    empty_postgres: str, limited_emulator: str, prefix: str, tmp_path: Path
) -> None:
    emulator = limited_emulator
    ports = [free_port() for _ in range(WORKERS)]
    settings = outbox_settings(empty_postgres, tmp_path / "shared", emulator, prefix, ports[0])
    workers = await asyncio.to_thread(start_workers, ports, settings, tmp_path / "logs")
    try:
        # Queued once all three run, so that each finds work (a worker claims 120 at a time).
        await enqueue_replies(empty_postgres, MESSAGES, CHATS)
        await wait_delivered(empty_postgres, within=60)
        counts = [deliveries(worker) for worker in workers]
    finally:
        stop_all(workers)
    outputs = [worker.output() for worker in workers]
    assert all("Traceback" not in output for output in outputs), outputs
    stats = emulator_call(emulator, "/_test/stats")
    assert isinstance(stats, dict)
    times = sorted(entry["at"] for entry in stats["log"])
    # Which limit each 429 was for, and when (ms from the first accepted send).
    rejected = [(entry["limit"], entry["at"] - times[0]) for entry in stats["rejected"]]
    assert stats["rejected429"] == 0, rejected
    assert [count["throttled"] for count in counts] == [0] * WORKERS
    assert all(count["sent"] > 0 for count in counts), counts  # each process took part
    assert sum(count["sent"] for count in counts) == MESSAGES == len(times)
    # Each chat got its two replies once each, in the order they were queued, although the
    # two may have been sent by different workers.
    for chat in range(CHATS):
        received = emulator_call(emulator, f"/_test/messages?token={TOKEN}&chat_id={1000 + chat}")
        assert isinstance(received, list)
        assert [message["text"] for message in received] == [
            reply_text(index) for index in range(chat, MESSAGES, CHATS)
        ]
    # No second of the run held more than the limit (what the emulator also checked).
    assert busiest_second(times) <= LIMIT
    # Messages per second from the first accepted to the last: within 10 % of the limit.
    rate = accepted_rate(times)
    assert LIMIT * 0.9 <= rate <= LIMIT * 1.1, rate
