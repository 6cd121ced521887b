"""The outbox of messages to citizens and staff chats."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import Channel, OutboxMessage, OutboxStatus
from storage.types import utcnow


class OutboxRepository:
    """Queues outgoing messages; a worker delivers them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def enqueue(
        self,
        *,
        channel: Channel,
        address: str,
        kind: str,
        text: str,
        case_id: int | None = None,
        payload: dict[str, Any] | None = None,
        dedupe_key: str | None = None,
    ) -> OutboxMessage:
        """Add a pending message; it is sent after the unit of work commits."""
        message = OutboxMessage(
            channel=channel,
            address=address,
            kind=kind,
            text=text,
            case_id=case_id,
            payload=payload,
            dedupe_key=dedupe_key,
            status=OutboxStatus.PENDING,
            attempts=0,
        )
        self.session.add(message)
        return message

    async def has_dedupe_key(self, dedupe_key: str) -> bool:
        """Whether a message with this de-duplication key was ever queued."""
        found = await self.session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
        )
        return found is not None

    async def claim_due(
        self, channels: Sequence[Channel], now: datetime, limit: int
    ) -> list[OutboxMessage]:
        """Take up to ``limit`` due pending messages for sending, oldest first.

        They become ``sending`` with one more attempt counted. On PostgreSQL rows another
        worker is claiming are skipped, so several processes never send the same message.
        A message waits while an earlier one to the same address is still pending or being
        sent: workers that each held one of a chat's messages would send them in whatever
        order their turns came, and a chat reads its replies in the order they were queued.
        """
        earlier = aliased(OutboxMessage)
        unfinished_before = (
            select(earlier.id)
            .where(
                earlier.channel == OutboxMessage.channel,
                earlier.address == OutboxMessage.address,
                earlier.id < OutboxMessage.id,
                earlier.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
            )
            .exists()
        )
        rows = (
            await self.session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.status == OutboxStatus.PENDING,
                    OutboxMessage.next_attempt_at <= now,
                    OutboxMessage.channel.in_(list(channels)),
                    ~unfinished_before,
                )
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        for row in rows:
            row.status = OutboxStatus.SENDING
            row.attempts += 1
            row.updated_at = now
        return list(rows)

    async def mark_sent(self, message_id: int, now: datetime) -> None:
        """The message was delivered."""
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(status=OutboxStatus.SENT, sent_at=now, updated_at=now, last_error=None)
        )

    async def reschedule(
        self, message_id: int, next_attempt_at: datetime, error: str, *, count_attempt: bool
    ) -> None:
        """Try again at ``next_attempt_at``; a rate-limit wait does not count as an attempt."""
        values: dict[str, Any] = {
            "status": OutboxStatus.PENDING,
            "next_attempt_at": next_attempt_at,
            "last_error": error[:500],
            "updated_at": utcnow(),
        }
        if not count_attempt:
            values["attempts"] = OutboxMessage.attempts - 1
        await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values)
        )

    async def mark_failed(self, message_id: int, error: str) -> None:
        """Give up on the message (final failure or too many attempts)."""
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(status=OutboxStatus.FAILED, last_error=error[:500], updated_at=utcnow())
        )

    async def release_stuck(self, claimed_before: datetime) -> int:
        """Put back messages left ``sending`` by a process that died before finishing them."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.SENDING,
                OutboxMessage.updated_at < claimed_before,
            )
            .values(status=OutboxStatus.PENDING, updated_at=utcnow())
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def pending_count(self) -> int:
        """How many messages wait to be sent (for the outbox depth metric)."""
        count = await self.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING)
        )
        return int(count or 0)
