"""The staff panel sub-app mounted at ``/admin``."""

from __future__ import annotations

from aiohttp import web

from storage.database import Database


def create_admin_app(database: Database) -> web.Application:
    """The admin panel application."""
    app = web.Application()
    app.router.add_get("", _unavailable)
    app.router.add_get("/", _unavailable)
    return app


async def _unavailable(request: web.Request) -> web.Response:
    return web.Response(status=503, text="The staff panel is not available yet.")
