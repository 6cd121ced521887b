"""The chat's WebSocket: one per open page, checked origin and cookie, bounded frames.

A page sends ``open`` first and gets the chat's history; then ``text`` and ``press`` frames
become core events. New messages reach every open page of the chat as ``messages`` frames.
"""

from __future__ import annotations

import structlog
from aiohttp import WSMsgType, web

from bot.conversation import Press, Verdict
from bot.conversation.i18n import N_
from bot.outage import outage_of
from bot.web.chrome import PAGE_FALLBACK_LANGUAGE, language_from_accept
from bot.web.frames import OpenFrame, PressFrame, TextFrame, parse_frame
from bot.web.guards import client_address, origin_allowed
from bot.web.hub import Frame
from bot.web.identity import chat_key, token_of
from bot.web.runtime import RUNTIME, ChatRuntime

log = structlog.get_logger("pikir.web")

# An application close code (4000-4999): the page must not reconnect.
NO_COOKIE_CLOSE_CODE = 4401


async def chat_socket(request: web.Request) -> web.WebSocketResponse:
    """Upgrade to a WebSocket for the browser's conversation, or refuse with a clear status."""
    runtime = request.app[RUNTIME]
    options = runtime.options
    if not origin_allowed(request, options):
        raise web.HTTPForbidden(text="This page may not open the chat (origin not allowed).")
    token = token_of(request)
    address = client_address(request)
    if token is None:
        # Each refusal costs a handshake: the address pays for it like for an event.
        if not await runtime.guards.addresses.take(address):
            raise web.HTTPTooManyRequests(text="Too many requests from this address.")
        return await _refuse_without_cookie(request)
    if not await runtime.guards.open_socket(address):
        raise web.HTTPTooManyRequests(text="Too many open chats from this address.")
    socket = web.WebSocketResponse(
        heartbeat=options.heartbeat_seconds,
        max_msg_size=options.webchat.max_frame_bytes,
        compress=False,  # messages are small; deflate would cost CPU for nothing
    )
    key = chat_key(options.secret_key, token)
    hint = language_from_accept(request.headers.get("Accept-Language"))
    try:
        await socket.prepare(request)
        await PageSession(runtime, socket, key, address, hint).run()
    finally:
        runtime.hub.leave(key, socket)
        await runtime.guards.close_socket(address)
    return socket


async def _refuse_without_cookie(request: web.Request) -> web.WebSocketResponse:
    """Tell a page that arrived without the chat's cookie why it cannot chat, then close.

    The page loaded, so the cookie was set and the browser refused to send it back: a browser
    or a setting that blocks the chat's cookie in another site's frame. A refused handshake
    would look like a dropped connection to the page, which would retry for ever; this frame
    lets it say what is wrong and offer the chat in a tab of its own.
    """
    socket = web.WebSocketResponse()
    await socket.prepare(request)
    await socket.send_json({"type": "blocked", "reason": "cookie"})
    await socket.close(code=NO_COOKIE_CLOSE_CODE, message=b"no conversation cookie")
    return socket


class PageSession:
    """One open page: reads its frames in order and answers them."""

    def __init__(
        self,
        runtime: ChatRuntime,
        socket: web.WebSocketResponse,
        key: str,
        address: str,
        hint: str | None,
    ) -> None:
        self._runtime = runtime
        self._conversations = runtime.conversations
        self._socket = socket
        self._key = key
        self._address = address
        self._hint = hint
        self._language = hint or PAGE_FALLBACK_LANGUAGE
        self._opened = False

    async def run(self) -> None:
        """Handle frames until the page goes away (or sends an oversized one)."""
        async for message in self._socket:
            if message.type is WSMsgType.TEXT:
                await self._on_text(message.data)
            elif message.type is WSMsgType.BINARY:
                await self._error("bad_frame", N_("web.bad_frame"))
            elif message.type is WSMsgType.ERROR:
                log.info("web.socket_error", error=str(self._socket.exception()))
                break

    async def _on_text(self, raw: str) -> None:
        frame = parse_frame(raw)
        if frame is None or (not self._opened and not isinstance(frame, OpenFrame)):
            await self._error("bad_frame", N_("web.bad_frame"))
            return
        verdict = await self._runtime.guards.event(self._key, self._address)
        if verdict is Verdict.NOTICE:
            await self._error("rate_limited", N_("flood.notice"))
        if verdict is not Verdict.ALLOW:
            return
        try:
            if isinstance(frame, OpenFrame):
                await self._open(frame)
            elif isinstance(frame, TextFrame):
                outcome = await self._conversations.say(self._key, frame.text, self._hint)
                self._language = outcome.language or self._language
            elif isinstance(frame, PressFrame):
                outcome = await self._conversations.handle(
                    self._key, Press(frame.data), hint=self._hint
                )
                self._language = outcome.language or self._language
        except Exception as exc:
            # The core rolled the event back; the citizen may simply try again. An outage of
            # the database or Redis is one line per event, not a traceback each.
            unavailable = outage_of(exc)
            if unavailable is None:
                log.exception("web.handle_failed")
            else:
                log.error("web.handle_failed", unavailable=unavailable, error=type(exc).__name__)
            await self._error("retry", N_("error.retry"))

    async def _open(self, frame: OpenFrame) -> None:
        self._hint = frame.language or self._hint
        # Joined before the history is read: a message committed meanwhile is in the history
        # or arrives as a frame (the page shows each message id once).
        self._runtime.hub.join(self._key, self._socket)
        opened = await self._conversations.open(self._key, frame.office)
        self._language = opened.language or self._hint or self._language
        self._opened = True
        await self._send({"type": "history", "lang": opened.language, "messages": opened.messages})
        if opened.needs_start:
            outcome = await self._conversations.start(self._key, frame.office, self._hint)
            self._language = outcome.language or self._language

    async def _error(self, code: str, message_id: str) -> None:
        text = self._conversations.text(self._language, message_id)
        await self._send({"type": "error", "code": code, "text": text})

    async def _send(self, frame: Frame) -> None:
        if not self._socket.closed:
            await self._socket.send_json(frame)
