"""Middlewares in front of the conversation: per-chat flood control and per-chat ordering."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Chat, TelegramObject, User

from bot.conversation import ConversationService, FloodGuard, Verdict, language_from_hint


class FloodMiddleware(BaseMiddleware):
    """Drops a chat's updates beyond its rate: one polite notice, then silence, and no rows."""

    def __init__(self, guard: FloodGuard, service: ConversationService) -> None:
        self._guard = guard
        self._service = service

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        chat: Chat | None = data.get("event_chat")
        if chat is None:
            return await handler(event, data)
        verdict = self._guard.check(str(chat.id))
        if verdict is Verdict.ALLOW:
            return await handler(event, data)
        if verdict is Verdict.NOTICE:
            user: User | None = data.get("event_from_user")
            language = language_from_hint(user.language_code if user else None) or "ru"
            await data["bot"].send_message(chat.id, self._service.text(language, "flood.notice"))
        return None


class ChatOrderMiddleware(BaseMiddleware):
    """Handles one chat's updates one at a time, in arrival order.

    aiogram handles updates concurrently; a citizen's quick taps would otherwise race for the
    same conversation row. Other chats are not held up. (Across processes the conversation's
    version check still guards the row.)
    """

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        chat: Chat | None = data.get("event_chat")
        if chat is None:
            return await handler(event, data)
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._waiting[chat.id] = self._waiting.get(chat.id, 0) + 1
        try:
            async with lock:
                return await handler(event, data)
        finally:
            self._waiting[chat.id] -= 1
            if not self._waiting[chat.id]:  # nobody else queued: forget the chat
                del self._waiting[chat.id]
                del self._locks[chat.id]
