"""Who is asking, and may they: the request's staff member and role checks.

The panel's session middleware puts the logged-in :class:`StaffUser` on the request under
:data:`STAFF_KEY`; handlers ask :func:`current_staff` and guard themselves with
:func:`require_roles`. A request without a session is sent to the login page; a staff member
outside the allowed roles gets 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps

from aiohttp import web

from admin.i18n import N_
from storage.models import StaffRole, StaffUser

STAFF_KEY = web.RequestKey("pikir.staff", StaffUser)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def current_staff(request: web.Request) -> StaffUser:
    """The logged-in staff member; redirects to the login page when there is none."""
    staff = request.get(STAFF_KEY)
    if staff is None:
        raise web.HTTPSeeOther(location=_login_url(request))
    return staff


def require_roles(*roles: StaffRole) -> Callable[[Handler], Handler]:
    """Decorate a handler so only staff with one of ``roles`` reach it (others get 403)."""
    allowed = frozenset(roles)

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            staff = current_staff(request)
            if staff.role not in allowed:
                raise web.HTTPForbidden(text=N_("This page is not available for your role."))
            return await handler(request)

        return guarded

    return decorate


def _login_url(request: web.Request) -> str:
    prefix = request.app.router.named_resources().get("login")
    if prefix is not None:
        return str(prefix.url_for())
    return "/admin/login"
