"""The outbox worker's decisions on both databases; the channel is a scripted fake sender."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import pytest

from bot.outbox import DeliveryRefused, OutboxWorker, OutgoingMessage, RateLimiter, RetryLater
from storage.database import Database
from storage.models import Channel, OutboxMessage, OutboxStatus
from storage.types import utcnow
from storage.uow import UnitOfWork


class ScriptedSender:
    """Answers each send with the next scripted outcome (an exception, or None = delivered)."""

    def __init__(self, *outcomes: Exception | None) -> None:
        self.outcomes = list(outcomes)
        self.sent: list[OutgoingMessage] = []

    async def send(self, message: OutgoingMessage) -> None:
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        self.sent.append(message)


async def _enqueue(
    database: Database, address: str = "77", channel: Channel = Channel.TELEGRAM
) -> int:
    async with UnitOfWork(database.sessions) as uow:
        message = uow.outbox.enqueue(channel=channel, address=address, kind="reply", text="hi")
        await uow.commit()
    return message.id


async def _row(database: Database, message_id: int) -> OutboxMessage:
    async with database.sessions() as session:
        row = await session.get(OutboxMessage, message_id)
    assert row is not None
    return row


async def _make_due(database: Database, message_id: int) -> None:
    async with UnitOfWork(database.sessions) as uow:
        row = await uow.session.get(OutboxMessage, message_id)
        assert row is not None
        row.next_attempt_at = utcnow() - timedelta(seconds=1)
        await uow.commit()


def _worker(database: Database, sender: ScriptedSender, **kwargs: object) -> OutboxWorker:
    limiter = RateLimiter(per_second=1000, per_chat_interval=0)
    return OutboxWorker(database.sessions, {"telegram": sender}, limiter, **kwargs)  # type: ignore[arg-type]


async def test_transient_errors_back_off_then_give_up(database: Database) -> None:
    message_id = await _enqueue(database)
    sender = ScriptedSender(ConnectionError("down"), ConnectionError("down"), ConnectionError("x"))
    worker = _worker(database, sender, max_attempts=3, base_backoff=60)
    assert await worker.run_once() == 1
    row = await _row(database, message_id)
    assert row.status == OutboxStatus.PENDING and row.attempts == 1
    assert row.next_attempt_at > utcnow() + timedelta(seconds=40)  # backed off, not hammering
    assert await worker.run_once() == 0  # not due yet
    for attempt in (2, 3):
        await _make_due(database, message_id)
        await worker.run_once()
        row = await _row(database, message_id)
        assert row.attempts == attempt
    assert row.status == OutboxStatus.FAILED and "ConnectionError" in (row.last_error or "")
    assert sender.sent == []


async def test_retry_after_is_waited_out_and_not_counted(database: Database) -> None:
    message_id = await _enqueue(database)
    sender = ScriptedSender(RetryLater(30))
    worker = _worker(database, sender)
    await worker.run_once()
    row = await _row(database, message_id)
    assert row.status == OutboxStatus.PENDING and row.attempts == 0
    assert row.next_attempt_at > utcnow() + timedelta(seconds=25)
    assert await worker._limiter.reserve("other chat") > 25  # the whole bot waits, not one message
    await _make_due(database, message_id)
    await _worker(database, sender).run_once()  # as if the 30 seconds had passed
    row = await _row(database, message_id)
    assert row.status == OutboxStatus.SENT and row.attempts == 1 and row.sent_at


async def test_refusal_is_final_and_other_channels_are_left_alone(database: Database) -> None:
    refused = await _enqueue(database)
    web_row = await _enqueue(database, channel=Channel.WEB)
    worker = _worker(database, ScriptedSender(DeliveryRefused("bot was blocked by the user")))
    assert await worker.run_once() == 1
    row = await _row(database, refused)
    assert row.status == OutboxStatus.FAILED and row.attempts == 1
    assert (await _row(database, web_row)).status == OutboxStatus.PENDING


async def test_a_message_left_sending_by_a_dead_process_is_sent_again(database: Database) -> None:
    message_id = await _enqueue(database)
    async with UnitOfWork(database.sessions) as uow:
        claimed = await uow.outbox.claim_due([Channel.TELEGRAM], utcnow(), 10)
        assert [m.id for m in claimed] == [message_id]
        await uow.commit()
    sender = ScriptedSender()
    worker = _worker(database, sender, stuck_after=timedelta(seconds=0))
    await worker._release_stuck()
    await worker.run_once()
    assert [m.id for m in sender.sent] == [message_id]


async def test_a_chats_next_message_waits_until_the_one_before_is_sent(
    database: Database,
) -> None:
    first, second = await _enqueue(database), await _enqueue(database)
    other_chat = await _enqueue(database, address="78")

    async def claim() -> list[int]:
        # As a second worker would: in its own transaction, while the first holds its claims.
        async with UnitOfWork(database.sessions) as uow:
            claimed = [m.id for m in await uow.outbox.claim_due([Channel.TELEGRAM], utcnow(), 10)]
            await uow.commit()
        return claimed

    assert await claim() == [first, other_chat]
    assert await claim() == []  # the chat's second waits while its first is being sent
    async with UnitOfWork(database.sessions) as uow:
        await uow.outbox.mark_sent(first, utcnow())
        await uow.commit()
    assert await claim() == [second]


def test_sends_made_late_are_counted_when_they_left() -> None:
    now = [0.0]
    limiter = RateLimiter(per_second=10, per_chat_interval=1.0, clock=lambda: now[0])
    # Ten sends that all left at once (their slots passed while the worker was busy).
    assert [limiter.admit(str(c)) for c in range(10)] == [0.0] * 10
    now[0] = 0.5
    # An eleventh waits until the first leaves the window (a second and the margin).
    assert limiter.admit("10") == pytest.approx(0.55)
    assert limiter.admit("0") == pytest.approx(0.55)  # and a chat its interval
    now[0] = 1.05
    assert limiter.admit("10") == 0.0
    assert limiter.admit("10") == pytest.approx(1.05)  # just sent to: the chat's interval


async def test_a_running_worker_sends_what_a_killed_one_left_sending(database: Database) -> None:
    worker = _worker(database, ScriptedSender(), stuck_after=timedelta(seconds=2))
    sender = worker._senders["telegram"]
    running = asyncio.create_task(worker.run())
    try:
        # Claimed by another worker after this one started, which then died before sending.
        message_id = await _enqueue(database)
        async with UnitOfWork(database.sessions) as uow:
            claimed = await uow.outbox.claim_due([Channel.TELEGRAM], utcnow(), 10)
            assert [m.id for m in claimed] == [message_id]
            await uow.commit()
        for _ in range(300):  # a bound for a loaded machine, not a speed figure
            if (await _row(database, message_id)).status == OutboxStatus.SENT:
                break
            await asyncio.sleep(0.1)
        assert [m.id for m in sender.sent] == [message_id]  # type: ignore[attr-defined]
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


def test_rate_limiter_spaces_sends_globally_and_per_chat() -> None:
    now = [0.0]
    limiter = RateLimiter(per_second=10, per_chat_interval=1.0, clock=lambda: now[0])
    # A tenth of a second apart and a second per chat, each with the arrival margin.
    assert [round(limiter.reserve(str(c)), 3) for c in range(3)] == [0.0, 0.105, 0.21]
    assert round(limiter.reserve("0"), 3) == 1.05  # the same chat waits a second
    limiter.pause(5)
    assert limiter.reserve("9") >= 5
