"""The open chat pages of this process, and the relay that brings staff replies to them live.

A staff reply is written to the chat's history by whichever process's outbox worker delivered
it; every process polls the history for recent staff replies to the chats it has open (one small
query a second, only while pages are open), so a page gets the reply whichever process serves
it. A page that is closed sees the reply in its history on the next visit. A page may get a
reply both in its history and from the relay; it shows each message id once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from aiohttp import web

from bot.conversation import ChatMessage

log = structlog.get_logger("pikir.web")

Frame = dict[str, Any]


class ChatHub:
    """The WebSockets of each open chat; a frame published to a chat goes to all its pages."""

    def __init__(self) -> None:
        self._sockets: defaultdict[str, set[web.WebSocketResponse]] = defaultdict(set)

    def join(self, chat_key: str, socket: web.WebSocketResponse) -> None:
        """A page of this chat is open on ``socket``."""
        self._sockets[chat_key].add(socket)

    def leave(self, chat_key: str, socket: web.WebSocketResponse) -> None:
        """The page on ``socket`` was closed."""
        sockets = self._sockets.get(chat_key)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self._sockets[chat_key]

    def open_chats(self) -> list[str]:
        """The chats that have an open page here."""
        return list(self._sockets)

    async def publish(self, chat_key: str, frame: Frame) -> int:
        """Send ``frame`` to every open page of the chat; to how many it went."""
        delivered = 0
        for socket in list(self._sockets.get(chat_key, ())):
            if socket.closed:
                continue
            try:
                await socket.send_json(frame)
                delivered += 1
            except (ConnectionError, RuntimeError):
                pass  # the page went away mid-send; it reloads its history when it returns
        return delivered


LoadReplies = Callable[[datetime, Sequence[str]], Awaitable[Sequence[ChatMessage]]]
ToFrame = Callable[[Sequence[ChatMessage]], Frame]


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (the history's timestamps are)."""
    return datetime.now(UTC)


class StaffRelay:
    """Polls the history for recent staff replies to the chats open here and pushes new ones.

    It looks back over a time window instead of following ids: on PostgreSQL a reply may
    commit after one with a higher id, and a watermark would skip it.
    """

    def __init__(
        self,
        hub: ChatHub,
        load_since: LoadReplies,
        to_frame: ToFrame,
        interval: float = 1.0,
        window: timedelta = timedelta(seconds=60),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._hub = hub
        self._load_since = load_since
        self._to_frame = to_frame
        self._interval = interval
        self._window = window
        self._clock = clock
        self._pushed: dict[int, datetime] = {}
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look now (a reply was just written by this process)."""
        self._wake.set()

    async def run(self) -> None:
        """Relay until cancelled; a failed round is logged and tried again."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            try:
                await self.relay_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("web.relay_failed")

    async def relay_once(self) -> int:
        """Push the staff replies of the window not pushed yet; how many."""
        chats = self._hub.open_chats()
        if not chats:
            return 0
        now = self._clock()
        since = now - self._window
        replies = await self._load_since(since, chats)
        by_chat: defaultdict[str, list[ChatMessage]] = defaultdict(list)
        for reply in replies:
            if reply.id not in self._pushed:
                self._pushed[reply.id] = now
                by_chat[reply.chat_key].append(reply)
        for old in [i for i, at in self._pushed.items() if at < since]:
            del self._pushed[old]
        for chat_key, messages in by_chat.items():
            await self._hub.publish(chat_key, self._to_frame(messages))
        return sum(len(messages) for messages in by_chat.values())
