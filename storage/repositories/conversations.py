"""Conversation state and the record of updates already handled."""

from __future__ import annotations

from sqlalchemy import select
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

    async def claim_update(self, channel: Channel, update_key: str) -> bool:
        """Record that an update is being handled; False if it was handled before.

        Runs in a savepoint so that a duplicate does not spoil the surrounding unit of work.
        """
        try:
            async with self.session.begin_nested():
                self.session.add(ProcessedUpdate(channel=channel, update_key=update_key))
        except IntegrityError:
            return False
        return True
