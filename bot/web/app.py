"""The web chat sub-app mounted at ``/chat``."""

from __future__ import annotations

from aiohttp import web

from storage.database import Database


def create_chat_app(database: Database) -> web.Application:
    """The web chat application (the conversation over HTTP/WebSocket)."""
    app = web.Application()
    app.router.add_get("", _unavailable)
    app.router.add_get("/", _unavailable)
    return app


async def _unavailable(request: web.Request) -> web.Response:
    return web.Response(status=503, text="The web chat is not available yet.")
