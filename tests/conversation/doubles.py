"""In-memory stand-ins for the core's ports, for adapters' tests that need no database.

Each is checked against the database implementation by the same tests
(``tests/webchat/test_history_port.py``), so a test on a double tests the real behaviour.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.conversation import ChatMessage, ChatOpening


class MemoryChatHistory:
    """Both :class:`~bot.conversation.ChatHistory` and :class:`~bot.conversation.ChatHistoryStore`.

    ``steps`` stands for the conversations' steps, which the core's units write.
    """

    def __init__(self) -> None:
        self.steps: dict[str, str] = {}
        self._messages: list[tuple[datetime, ChatMessage]] = []
        self._outbox_ids: set[int] = set()
        self._ids = itertools.count(1)

    def _append(self, chat_key: str, message: ChatMessage, at: datetime | None = None) -> int:
        id_ = next(self._ids)
        self._messages.append(
            (at or datetime.now(UTC), replace(message, id=id_, chat_key=chat_key))
        )
        return id_

    def _of(self, chat_key: str) -> list[ChatMessage]:
        return [m for _, m in self._messages if m.chat_key == chat_key]

    async def add_messages(self, chat_key: str, messages: Sequence[ChatMessage]) -> list[int]:
        return [self._append(chat_key, message) for message in messages]

    async def latest_buttons(self, chat_key: str) -> list[Any] | None:
        from_bot = [m for m in self._of(chat_key) if m.author == "bot"]
        return from_bot[-1].buttons if from_bot else None

    async def erase_history(self, chat_key: str) -> int:
        before = len(self._messages)
        self._messages = [(at, m) for at, m in self._messages if m.chat_key != chat_key]
        return before - len(self._messages)

    async def opening(self, chat_key: str, limit: int) -> ChatOpening:
        return ChatOpening(self._of(chat_key)[-limit:], self.steps.get(chat_key))

    async def step(self, chat_key: str) -> str | None:
        return self.steps.get(chat_key)

    async def language(self, chat_key: str) -> str | None:
        spoken = [m.language for m in self._of(chat_key) if m.author == "bot" and m.language]
        return spoken[-1] if spoken else None

    async def add_staff_reply(
        self, chat_key: str, text: str, language: str | None, outbox_id: int
    ) -> bool:
        if outbox_id in self._outbox_ids:
            return False
        self._outbox_ids.add(outbox_id)
        self._append(chat_key, ChatMessage("staff", text, language=language))
        return True

    async def staff_replies_since(
        self, since: datetime, chat_keys: Collection[str]
    ) -> Sequence[ChatMessage]:
        return [
            m
            for at, m in self._messages
            if m.author == "staff" and m.chat_key in chat_keys and at > since
        ]

    async def purge_before(self, cutoff: datetime) -> int:
        before = len(self._messages)
        self._messages = [(at, m) for at, m in self._messages if at >= cutoff]
        return before - len(self._messages)
