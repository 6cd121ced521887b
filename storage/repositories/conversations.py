"""Conversation state and the record of updates already handled."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Channel, Conversation, ProcessedUpdate, Respondent


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

    def add(self, conversation: Conversation) -> None:
        """Start tracking a new conversation."""
        self.session.add(conversation)

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
