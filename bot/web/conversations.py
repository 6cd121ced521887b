"""The web channel of the conversation core: one event in, the chat's history and pages updated.

The core decides everything the citizen is asked and told; this module only turns a browser's
action into a core event, keeps what was shown in the chat's history (so a reload shows it),
and publishes the new messages to the chat's open pages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from cachetools import LRUCache

from bot.conversation import (
    PHOTO_STEPS,
    ChatHistory,
    ChatHistoryStore,
    ChatMessage,
    ConversationService,
    ConversationUnit,
    Event,
    Incoming,
    Outcome,
    Photo,
    Press,
    Reply,
    Start,
    Step,
    parse_text,
)
from bot.coordination import ChatLocks
from bot.coordination.memory import MemoryChatLocks
from bot.web.hub import ChatHub, Frame

CHANNEL = "web"
CITIZEN = "citizen"
BOT = "bot"


@dataclass(frozen=True)
class Opened:
    """What a page shows when it opens: the chat's history and the language to talk in."""

    messages: list[dict[str, Any]]
    language: str | None
    needs_start: bool


class WebConversations:
    """Runs the core for web chats and keeps each chat's history."""

    def __init__(
        self,
        service: ConversationService,
        history: ChatHistoryStore,
        hub: ChatHub,
        *,
        history_limit: int = 200,
        max_concurrent: int = 10,
        locks: ChatLocks | None = None,
    ) -> None:
        self._service = service
        self._history = history
        self._hub = hub
        self._history_limit = history_limit
        self._questions = LatestQuestions()
        # Under a burst, events queue here in order rather than time out waiting for the pool.
        self._slots = asyncio.Semaphore(max_concurrent)
        # One event per chat at a time, across workers when the locks are shared.
        self._locks = locks or MemoryChatLocks()

    @property
    def max_text(self) -> int:
        """The longest free text the core keeps."""
        return self._service.limits.max_text

    def text(self, language: str, message_id: str, **params: object) -> str:
        """A citizen-facing text from the shared catalogs."""
        return self._service.text(language, message_id, **params)

    async def open(self, chat_key: str, office: str | None) -> Opened:
        """The chat's history, and whether the page must start a conversation.

        A new browser starts one; so does an office's QR code when no feedback is in progress.
        A page reloaded in the middle of a feedback just shows where the citizen was.
        """
        async with self._slots:
            opening = await self._history.opening(chat_key, self._history_limit)
        history = opening.messages
        latest = next((m for m in reversed(history) if m.author == BOT), None)
        if latest is not None:
            self._questions.put(chat_key, latest.buttons)
        idle = opening.step is None or opening.step == Step.IDLE.value
        needs_start = not history or (office is not None and idle)
        language = next((m.language for m in reversed(history) if m.language is not None), None)
        return Opened([wire(m) for m in history], language, needs_start)

    async def language(self, chat_key: str) -> str | None:
        """The language the chat last talked in, if any."""
        return await self._history.language(chat_key)

    async def accepts_photo(self, chat_key: str) -> bool:
        """Whether the conversation is at a step where a photo is kept."""
        return await self._history.step(chat_key) in PHOTO_STEPS

    async def handle(
        self, chat_key: str, event: Event, *, hint: str | None, shown: str | None = None
    ) -> Outcome:
        """Apply one event, record what the chat shows, and publish it to the chat's pages.

        ``shown`` is what the citizen's own bubble says (their text, "photo attached"); for a
        button press it is the pressed button's label, found in the chat's latest question.
        The history is written in the core's own transaction, so the chat shows exactly the
        events that were committed.
        """
        recorded: list[ChatMessage] | None = None

        async def keep_history(unit: ConversationUnit, outcome: Outcome) -> None:
            nonlocal recorded  # the last attempt's rows (the core retries on a conflict)
            recorded = await self._record(unit.chat_history, chat_key, event, outcome, shown)

        # Held until the frame is published, so every page sees the chat's replies in order.
        async with self._locks.hold(chat_key):
            async with self._slots:
                outcome = await self._service.handle(
                    Incoming(CHANNEL, chat_key, chat_key, event, language_hint=hint),
                    before_commit=keep_history,
                )
            return await self._publish(chat_key, outcome, recorded)

    async def _publish(
        self,
        chat_key: str,
        outcome: Outcome,
        recorded: list[ChatMessage] | None,
    ) -> Outcome:
        """Remember the latest question and send the new rows to the chat's open pages."""
        if outcome.duplicate or recorded is None:
            return outcome
        for message in reversed(recorded):
            if message.author == BOT:
                self._questions.put(chat_key, message.buttons)
                break
        frame: Frame = {
            "type": "messages",
            "lang": outcome.language,
            "reset": outcome.erased,
            "messages": [wire(message) for message in recorded],
        }
        if outcome.notice:
            frame["notice"] = outcome.notice
        await self._hub.publish(chat_key, frame)
        return outcome

    async def _record(
        self,
        history: ChatHistory,
        chat_key: str,
        event: Event,
        outcome: Outcome,
        shown: str | None,
    ) -> list[ChatMessage]:
        """Add the citizen's bubble and the replies to the chat's history; them, with ids."""
        if isinstance(event, Press):
            shown = _label_of(self._questions.get(chat_key), event.data) or _label_of(
                await history.latest_buttons(chat_key), event.data
            )
        if outcome.erased:
            await history.erase_history(chat_key)
            shown = None
        messages: list[ChatMessage] = []
        if shown:
            messages.append(ChatMessage(CITIZEN, shown))
        messages.extend(_bot_message(reply, outcome.language) for reply in outcome.replies)
        ids = await history.add_messages(chat_key, messages)
        return [
            replace(message, id=id_, chat_key=chat_key)
            for message, id_ in zip(messages, ids, strict=True)
        ]

    async def start(self, chat_key: str, office: str | None, hint: str | None) -> Outcome:
        """Open the conversation (from an office's QR code when ``office`` is given)."""
        return await self.handle(chat_key, Start(office), hint=hint)

    async def say(self, chat_key: str, text: str, hint: str | None) -> Outcome:
        """The citizen typed ``text`` (or a command such as ``/status``)."""
        return await self.handle(chat_key, parse_text(text), hint=hint, shown=text[: self.max_text])

    async def photo(self, chat_key: str, photo: Photo, hint: str | None, shown: str) -> Outcome:
        """The citizen attached a stored photo."""
        return await self.handle(chat_key, photo, hint=hint, shown=shown)

    async def purge(self, before: datetime) -> int:
        """Delete history older than ``before`` (retention); how many messages."""
        return await self._history.purge_before(before)

    async def staff_replies_since(
        self, since: datetime, chat_keys: Sequence[str]
    ) -> Sequence[ChatMessage]:
        """Staff replies to these chats written after ``since`` (for the live relay)."""
        return await self._history.staff_replies_since(since, chat_keys)

    async def add_staff_reply(
        self, chat_key: str, text: str, language: str | None, outbox_id: int
    ) -> bool:
        """Store a staff reply delivered from the outbox; False if it was stored before."""
        return await self._history.add_staff_reply(chat_key, text, language, outbox_id)


def wire(message: ChatMessage) -> dict[str, Any]:
    """A history message as the page receives it (text is plain text, never markup)."""
    return {
        "id": message.id,
        "from": message.author,
        "text": message.text,
        "buttons": message.buttons or [],
        "expects_text": message.expects_text,
    }


def messages_frame(messages: Sequence[ChatMessage]) -> Frame:
    """New messages for a page (the live relay's staff replies)."""
    return {"type": "messages", "messages": [wire(m) for m in messages]}


def _bot_message(reply: Reply, language: str | None) -> ChatMessage:
    buttons = [[{"label": b.label, "data": b.data} for b in row] for row in reply.buttons]
    return ChatMessage(BOT, reply.text, buttons or None, reply.expects_text, language)


def _label_of(buttons: list[Any] | None, data: str) -> str | None:
    """The label of the button with ``data`` among a question's buttons (None if absent)."""
    for row in buttons or []:
        for button in row:
            if isinstance(button, dict) and button.get("data") == data:
                return str(button.get("label", ""))[:200] or None
    return None


class LatestQuestions:
    """Each chat's latest buttons, remembered in this process so a press needs no query.

    Bounded; a chat served last by another process is simply looked up in the database.
    """

    def __init__(self, size: int = 20_000) -> None:
        self._buttons: LRUCache[str, list[Any] | None] = LRUCache(maxsize=size)

    def get(self, chat_key: str) -> list[Any] | None:
        """The chat's latest buttons, if remembered."""
        return self._buttons.get(chat_key)

    def put(self, chat_key: str, buttons: list[Any] | None) -> None:
        """Remember the chat's latest buttons, forgetting the oldest chat when full."""
        self._buttons[chat_key] = buttons
