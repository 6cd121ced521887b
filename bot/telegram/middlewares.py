"""Per-chat flood control in front of the conversation: a flood never reaches the database."""

from __future__ import annotations

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
