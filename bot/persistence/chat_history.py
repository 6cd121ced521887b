"""The web chat's history on the database: the core's ``ChatHistory`` and ``ChatHistoryStore``.

:class:`SqlChatHistory` writes in an event's unit of work (so the chat shows exactly the events
that were committed); :class:`SqlChatHistoryStore` serves what the web chat reads and writes
outside an event (a page opening, staff replies, retention), each call its own transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation.ports import ChatMessage, ChatOpening
from storage.models import Channel, Language, WebAuthor, WebMessage
from storage.repositories.web_chat import WebChatRepository
from storage.types import utcnow
from storage.uow import UnitOfWork


class SqlChatHistory:
    """Implements :class:`~bot.conversation.ports.ChatHistory` on one unit of work's session."""

    def __init__(self, messages: WebChatRepository) -> None:
        self._messages = messages

    async def add_messages(self, chat_key: str, messages: Sequence[ChatMessage]) -> list[int]:
        created_at = utcnow()
        return await self._messages.add_all([_row(chat_key, m, created_at) for m in messages])

    async def latest_buttons(self, chat_key: str) -> list[Any] | None:
        latest = await self._messages.latest_from_bot(chat_key)
        return latest.buttons if latest is not None else None

    async def erase_history(self, chat_key: str) -> int:
        return await self._messages.erase_chat(chat_key)


class SqlChatHistoryStore:
    """Implements :class:`~bot.conversation.ports.ChatHistoryStore` for the web channel."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def opening(self, chat_key: str, limit: int) -> ChatOpening:
        async with UnitOfWork(self._sessions) as uow:
            history = await uow.web_chat.history(chat_key, limit)
            conversation = await uow.conversations.get(Channel.WEB, chat_key)
            return ChatOpening(
                [chat_message(m) for m in history],
                conversation.step if conversation is not None else None,
            )

    async def step(self, chat_key: str) -> str | None:
        async with UnitOfWork(self._sessions) as uow:
            conversation = await uow.conversations.get(Channel.WEB, chat_key)
            return conversation.step if conversation is not None else None

    async def language(self, chat_key: str) -> str | None:
        async with UnitOfWork(self._sessions) as uow:
            language = await uow.web_chat.language(chat_key)
        return language.value if language is not None else None

    async def add_staff_reply(
        self, chat_key: str, text: str, language: str | None, outbox_id: int
    ) -> bool:
        async with UnitOfWork(self._sessions) as uow:
            added = await uow.web_chat.add_staff_reply(
                chat_key, text, Language(language) if language else None, outbox_id
            )
            await uow.commit()
        return added

    async def staff_replies_since(
        self, since: datetime, chat_keys: Collection[str]
    ) -> Sequence[ChatMessage]:
        async with UnitOfWork(self._sessions) as uow:
            replies = await uow.web_chat.staff_replies_since(since, chat_keys)
            return [chat_message(m) for m in replies]

    async def purge_before(self, cutoff: datetime) -> int:
        async with UnitOfWork(self._sessions) as uow:
            count = await uow.web_chat.purge_before(cutoff)
            await uow.commit()
        return count


def chat_message(message: WebMessage) -> ChatMessage:
    """A stored history message as the core's :class:`ChatMessage`."""
    return ChatMessage(
        author=message.author.value,
        text=message.text,
        buttons=message.buttons,
        expects_text=bool(message.expects_text),
        language=message.language.value if message.language is not None else None,
        id=message.id,
        chat_key=message.chat_key,
    )


def _row(chat_key: str, message: ChatMessage, created_at: datetime) -> dict[str, Any]:
    """A history row's column values (every row has the same keys, for one INSERT)."""
    return {
        "chat_key": chat_key,
        "author": WebAuthor(message.author),
        "text": message.text,
        "buttons": message.buttons,
        "expects_text": message.expects_text,
        "language": Language(message.language) if message.language else None,
        "created_at": created_at,
    }
