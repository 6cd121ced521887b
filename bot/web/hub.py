"""The open chat pages of this process, and the relay that brings staff replies to them live.

A staff reply is written to the chat's history by whichever process's outbox worker delivered
it; every process polls the history for new staff replies to the chats it has open (one small
query a second, only while pages are open), so a page gets the reply whichever process serves
it. A page that is closed sees the reply in its history on the next visit. A page may get a
reply both in its history and from the relay; it shows each message id once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
from aiohttp import web

from storage.models import WebMessage

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


LoadReplies = Callable[[int, Sequence[str]], Awaitable[Sequence[WebMessage]]]
LastId = Callable[[], Awaitable[int]]
ToFrame = Callable[[Sequence[WebMessage]], Frame]


class StaffRelay:
    """Polls the history for staff replies to the chats open here and pushes them."""

    def __init__(
        self,
        hub: ChatHub,
        load_after: LoadReplies,
        last_id: LastId,
        to_frame: ToFrame,
        interval: float = 1.0,
    ) -> None:
        self._hub = hub
        self._load_after = load_after
        self._last_id = last_id
        self._to_frame = to_frame
        self._interval = interval
        self._seen = 0
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look now (a reply was just written by this process)."""
        self._wake.set()

    async def run(self) -> None:
        """Relay until cancelled; a failed round is logged and tried again."""
        self._seen = await self._last_id()
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
        """Push the staff replies written since the last look; how many."""
        chats = self._hub.open_chats()
        if not chats:
            return 0
        replies = await self._load_after(self._seen, chats)
        by_chat: defaultdict[str, list[WebMessage]] = defaultdict(list)
        for reply in replies:
            by_chat[reply.chat_key].append(reply)
            self._seen = max(self._seen, reply.id)
        for chat_key, messages in by_chat.items():
            await self._hub.publish(chat_key, self._to_frame(messages))
        return len(replies)
