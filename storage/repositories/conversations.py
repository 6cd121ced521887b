"""Conversation state and the record of updates already handled."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Channel, Conversation, ProcessedUpdate, Respondent
from storage.types import utcnow

# Written as text because SQLAlchemy never caches the compiled form of its dialects'
# ``insert().on_conflict_do_nothing()`` (their ``inherit_cache`` is off): built that way, this
# statement, run for every update, was compiled afresh each time. The typed parameters keep
# the columns' own conversions (the channel's enum, the UTC timestamp).
_CLAIM_UPDATE = text(
    "INSERT INTO processed_updates (channel, update_key, created_at) "
    "VALUES (:channel, :update_key, :created_at) ON CONFLICT DO NOTHING"
).bindparams(
    bindparam("channel", type_=ProcessedUpdate.__table__.c.channel.type),
    bindparam("update_key", type_=ProcessedUpdate.__table__.c.update_key.type),
    bindparam("created_at", type_=ProcessedUpdate.__table__.c.created_at.type),
)


class ConversationRepository:
    """Loads and stores the state of citizens' conversations."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, channel: Channel, chat_key: str) -> Conversation | None:
        """The conversation of one chat on one channel, if it exists."""
        return await self.session.scalar(
            select(Conversation).where(
                Conversation.channel == channel, Conversation.chat_key == chat_key
            )
        )

    async def get_for_update(self, channel: Channel, chat_key: str) -> Conversation | None:
        """Like :meth:`get`, but locks the row on PostgreSQL until the unit of work ends."""
        return await self.session.scalar(
            select(Conversation)
            .where(Conversation.channel == channel, Conversation.chat_key == chat_key)
            .with_for_update()
        )

    def add(self, conversation: Conversation) -> None:
        """Start tracking a new conversation."""
        self.session.add(conversation)

    async def insert_new(self, conversation: Conversation) -> bool:
        """Insert a first conversation for a chat; False if another process inserted it first."""
        try:
            async with self.session.begin_nested():
                self.session.add(conversation)
        except IntegrityError:
            return False
        return True

    async def save_if_version(
        self,
        conversation_id: int,
        expected_version: int,
        *,
        step: str,
        data: dict[str, Any],
        respondent_id: int | None,
    ) -> bool:
        """Store a new state only if nobody saved since ``expected_version`` was read."""
        result = await self.session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.version == expected_version)
            .values(step=step, data=data, respondent_id=respondent_id, version=expected_version + 1)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    async def get_respondent(self, channel: Channel, subject_hash: str) -> Respondent | None:
        """The respondent known by this pseudonym on this channel."""
        return await self.session.scalar(
            select(Respondent).where(
                Respondent.channel == channel, Respondent.subject_hash == subject_hash
            )
        )

    def add_respondent(self, respondent: Respondent) -> None:
        """Start tracking a new respondent."""
        self.session.add(respondent)

    async def respondent_by_id(self, respondent_id: int) -> Respondent | None:
        """The respondent with this id, if it still exists."""
        return await self.session.get(Respondent, respondent_id)

    async def get_or_add_respondent(self, channel: Channel, subject_hash: str) -> Respondent:
        """The respondent with this pseudonym, created if new (safe against a parallel insert)."""
        known = await self.get_respondent(channel, subject_hash)
        if known is not None:
            return known
        respondent = Respondent(channel=channel, subject_hash=subject_hash)
        try:
            async with self.session.begin_nested():
                self.session.add(respondent)
        except IntegrityError:
            known = await self.get_respondent(channel, subject_hash)
            if known is None:
                raise
            return known
        return respondent

    async def delete_respondent(self, respondent_id: int) -> None:
        """Delete a respondent; conversations and feedback keep their rows, unlinked."""
        await self.session.execute(delete(Respondent).where(Respondent.id == respondent_id))

    async def claim_update(self, channel: Channel, update_key: str) -> bool:
        """Record that an update is being handled; False if it was handled before.

        One ``INSERT … ON CONFLICT DO NOTHING`` (both dialects have it): a duplicate neither
        raises nor spoils the surrounding unit of work, and it costs one round trip.
        """
        result = await self.session.execute(
            _CLAIM_UPDATE,
            {"channel": channel, "update_key": update_key, "created_at": utcnow()},
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    async def forget_updates_before(self, cutoff: datetime) -> int:
        """Forget handled update ids recorded before ``cutoff``; how many."""
        result = await self.session.execute(
            delete(ProcessedUpdate).where(ProcessedUpdate.created_at < cutoff)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def saved_drafts(self, *, after_id: int, limit: int) -> list[tuple[int, Any]]:
        """Up to ``limit`` conversations' ids and saved data after ``after_id``, in id order."""
        rows = (
            await self.session.execute(
                select(Conversation.id, Conversation.data)
                .where(Conversation.id > after_id)
                .order_by(Conversation.id)
                .limit(limit)
            )
        ).all()
        return [(row.id, row.data) for row in rows]
