"""The web chat sub-app mounted at ``/chat``: page, socket, upload, widget, static files."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.conversation import ChatHistoryStore, ConversationService
from bot.coordination import Coordination, LimitSettings
from bot.coordination.memory import memory_coordination
from bot.web.config import ChatOptions
from bot.web.conversations import WebConversations, messages_frame
from bot.web.guards import RateGuards
from bot.web.hub import ChatHub, StaffRelay
from bot.web.page import chat_page, widget_script
from bot.web.runtime import RUNTIME, TEMPLATES, WIDGET_SOURCE, ChatRuntime
from bot.web.sender import WebSender
from bot.web.socket import chat_socket
from bot.web.uploads import upload_photo

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"


def build_runtime(
    service: ConversationService,
    history: ChatHistoryStore,
    options: ChatOptions,
    coordination: Coordination | None = None,
) -> ChatRuntime:
    """The web chat's parts for one process (the composition root also takes its sender).

    ``history`` keeps the chats' histories (the database's, handed in by the composition root).
    Locks and limits come from ``coordination`` (shared in Redis by several workers); without
    it they are this process's alone, built from ``options``' web chat settings.
    """
    shared = coordination or memory_coordination(LimitSettings(options.webchat))
    hub = ChatHub()
    conversations = WebConversations(
        service,
        history,
        hub,
        history_limit=options.history_limit,
        max_concurrent=options.max_concurrent_events,
        locks=shared.web_locks,
    )
    relay = StaffRelay(
        hub, conversations.staff_replies_since, messages_frame, interval=options.relay_interval
    )
    guards = RateGuards(
        shared.web_flood, shared.web_addresses, shared.web_new_chats, shared.web_sockets
    )
    return ChatRuntime(options, conversations, hub, relay, guards)


def web_sender(runtime: ChatRuntime) -> WebSender:
    """The outbox sender of the web channel, waking this process's live relay."""
    conversations = runtime.conversations
    return WebSender(conversations.add_staff_reply, conversations.text, runtime.relay.wake)


def create_chat_app(runtime: ChatRuntime) -> web.Application:
    """The web chat application; mount it at ``/chat``."""
    app = web.Application(client_max_size=runtime.options.max_photo_bytes + 64 * 1024)
    app[RUNTIME] = runtime
    app[WIDGET_SOURCE] = (TEMPLATES_DIR / "widget.js").read_text(encoding="utf-8")
    templates = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        app_key=TEMPLATES,
    )
    # tojson still escapes <, >, & and ' for HTML; the texts themselves may stay readable.
    templates.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
    app.router.add_get("", chat_page, name="page")
    app.router.add_get("/", chat_page)
    app.router.add_get("/ws", chat_socket, name="socket")
    app.router.add_post("/upload", upload_photo, name="upload")
    app.router.add_get("/widget.js", widget_script, name="widget")
    app.router.add_static("/static", STATIC_DIR, name="static", append_version=True)
    app.cleanup_ctx.append(_relay_ctx)
    return app


async def _relay_ctx(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(app[RUNTIME].relay.run(), name="webchat-relay")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
