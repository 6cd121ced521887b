"""Middlewares in front of the conversation: per-chat flood control and per-chat ordering."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Chat, TelegramObject, Update, User

from bot.conversation import ConversationService, Verdict, language_from_hint
from bot.coordination import ChatLocks, FloodLimiter


class FloodMiddleware(BaseMiddleware):
    """Drops a chat's updates beyond its rate: one polite notice, then silence, and no rows."""

    def __init__(self, guard: FloodLimiter, service: ConversationService) -> None:
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
        verdict = await self._guard.check(str(chat.id))
        if verdict is Verdict.ALLOW:
            return await handler(event, data)
        if verdict is Verdict.NOTICE:
            user: User | None = data.get("event_from_user")
            language = language_from_hint(user.language_code if user else None) or "ru"
            await data["bot"].send_message(chat.id, self._service.text(language, "flood.notice"))
        return None


class ChatOrderMiddleware(BaseMiddleware):
    """Handles one chat's updates one at a time, in update id order, replies included.

    aiogram handles updates concurrently, and several workers behind a proxy each get some of
    a chat's updates; the chat's lock (in this process, or in Redis for every worker) is held
    for the whole update, so a citizen's quick taps never race for the conversation and the
    replies leave in the order they were produced. Other chats are not held up.
    """

    def __init__(self, locks: ChatLocks) -> None:
        self._locks = locks

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        chat: Chat | None = data.get("event_chat")
        if chat is None:
            return await handler(event, data)
        order = event.update_id if isinstance(event, Update) else None
        async with self._locks.hold(str(chat.id), order):
            return await handler(event, data)
