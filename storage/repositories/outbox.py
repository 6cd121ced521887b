"""The outbox of messages to citizens and staff chats."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Channel, OutboxMessage, OutboxStatus


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
