"""The outbox worker: sends pending messages within the channel's limits, retries, gives up.

At-least-once: a message is marked sent after the channel accepted it; a process that dies in
between leaves it ``sending``, and it is sent again once released as stuck.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Mapping
from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outage import outage_of
from bot.outbox.limiter import LocalSendSlots, RateLimiter
from bot.outbox.ports import (
    DeliveryObserver,
    DeliveryRefused,
    OutgoingMessage,
    RetryLater,
    Sender,
    SendSlots,
)
from storage.models import Channel, OutboxMessage
from storage.types import utcnow
from storage.uow import UnitOfWork

log = structlog.get_logger("pikir.outbox")


class OutboxWorker:
    """Delivers outbox rows of the channels it has senders for."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        senders: Mapping[str, Sender],
        limiter: SendSlots | RateLimiter,
        *,
        max_attempts: int = 8,
        poll_interval: float = 0.5,
        batch_size: int = 120,
        base_backoff: float = 2.0,
        max_backoff: float = 900.0,
        stuck_after: timedelta = timedelta(minutes=15),
        observer: DeliveryObserver | None = None,
    ) -> None:
        self._observer = observer
        self._sessions = sessions
        self._senders = dict(senders)
        # A bare limiter is this process's alone (tests, one worker).
        self._limiter = LocalSendSlots(limiter) if isinstance(limiter, RateLimiter) else limiter
        self._max_attempts = max_attempts
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self._base_backoff = base_backoff
        self._max_backoff = max_backoff
        self._stuck_after = stuck_after
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look for new messages now instead of at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled; a failing round is logged and retried after a pause (an
        outage of the database or Redis in one line when it starts and one when it ends)."""
        # Not only at start: a worker killed outright leaves its claimed messages ``sending``,
        # and the workers still running must send them.
        release_every = max(1.0, self._stuck_after.total_seconds() / 4)
        released_at = -release_every
        away: str | None = None  # the service whose outage was reported, until it is back
        while True:
            try:
                if time.monotonic() - released_at >= release_every:
                    released_at = time.monotonic()
                    await self._release_stuck()
                sent = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                sent = 0
                unavailable = outage_of(exc)
                if unavailable is None:
                    log.exception("outbox.round_failed")
                elif unavailable != away:  # once per outage, not a line every poll
                    log.error(
                        "outbox.unavailable",
                        unavailable=unavailable,
                        error=f"{type(exc).__name__}: {exc}"[:200],
                    )
                away = unavailable
            else:
                if away is not None:
                    log.warning("outbox.recovered", unavailable=away)
                    away = None
            if sent == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_interval)
                self._wake.clear()

    async def run_once(self) -> int:
        """Claim one batch of due messages and deliver it; how many were claimed."""
        channels = [Channel(name) for name in self._senders]
        async with UnitOfWork(self._sessions) as uow:
            rows = await uow.outbox.claim_due(channels, utcnow(), self._batch_size)
            claimed = [(row.channel.value, _outgoing(row), row.attempts) for row in rows]
            await uow.commit()
        # Slots are reserved in claim order, so one chat's messages keep their order.
        deliveries = [
            self._deliver(channel, message, attempts, await self._limiter.reserve(message.address))
            for channel, message, attempts in claimed
        ]
        await asyncio.gather(*deliveries)
        return len(claimed)

    async def _deliver(
        self, channel: str, message: OutgoingMessage, attempts: int, delay: float
    ) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            # The slot was planned; a send that left late since is counted as it left.
            wait = await self._limiter.admit(message.address)
            while wait > 0:
                await asyncio.sleep(wait)
                wait = await self._limiter.admit(message.address)
            await self._senders[channel].send(message)
        except RetryLater as exc:
            self._observe(channel, "throttled")
            await self._limiter.pause(exc.seconds)
            log.warning("outbox.rate_limited", id=message.id, retry_after=exc.seconds)
            await self._reschedule(message.id, exc.seconds, str(exc), count_attempt=False)
        except DeliveryRefused as exc:
            self._observe(channel, "failed")
            log.warning("outbox.refused", id=message.id, error=str(exc))
            await self._fail(message.id, f"refused: {exc}")
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            self._observe(channel, "failed")
            if attempts >= self._max_attempts:
                log.error("outbox.gave_up", id=message.id, attempts=attempts, error=error)
                await self._fail(message.id, error)
            else:
                backoff = min(self._max_backoff, self._base_backoff * 2 ** (attempts - 1))
                backoff *= random.uniform(0.8, 1.2)  # spread retries of a failed batch
                await self._reschedule(message.id, backoff, error, count_attempt=True)
        else:
            self._observe(channel, "sent")
            async with UnitOfWork(self._sessions) as uow:
                await uow.outbox.mark_sent(message.id, utcnow())
                await uow.commit()

    def _observe(self, channel: str, result: str) -> None:
        if self._observer is not None:
            self._observer.delivery(channel, result)

    async def pending(self) -> int:
        """How many messages wait to be sent."""
        async with UnitOfWork(self._sessions) as uow:
            return await uow.outbox.pending_count()

    async def _reschedule(
        self, message_id: int, seconds: float, error: str, *, count_attempt: bool
    ) -> None:
        async with UnitOfWork(self._sessions) as uow:
            when = utcnow() + timedelta(seconds=seconds)
            await uow.outbox.reschedule(message_id, when, error, count_attempt=count_attempt)
            await uow.commit()

    async def _fail(self, message_id: int, error: str) -> None:
        async with UnitOfWork(self._sessions) as uow:
            await uow.outbox.mark_failed(message_id, error)
            await uow.commit()

    async def _release_stuck(self) -> None:
        async with UnitOfWork(self._sessions) as uow:
            released = await uow.outbox.release_stuck(utcnow() - self._stuck_after)
            await uow.commit()
        if released:
            log.warning("outbox.released_stuck", count=released)


def _outgoing(row: OutboxMessage) -> OutgoingMessage:
    return OutgoingMessage(row.id, row.address, row.kind, row.text, row.payload)
