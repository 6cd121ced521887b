"""Staff sessions: an encrypted cookie, idle and absolute timeouts, and the login gate.

The cookie (Fernet, via aiohttp-session) holds the staff id, the account's session epoch, when
the session began and when it was last used, and the CSRF token. Every request re-reads the
account: a disabled account, a changed password or role, or a logout (all raise the epoch) end
every session at once. Pages are reachable only with a valid session, except those in
:data:`PUBLIC_ROUTES`.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web
from aiohttp_session import Session, get_session, new_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from admin.access import STAFF_KEY, Handler
from admin.config import PanelConfig
from admin.keys import CLOCK, CONFIG, DATABASE
from storage.models import StaffUser
from storage.uow import UnitOfWork

COOKIE_NAME = "pikir_staff"
PUBLIC_ROUTES = frozenset({"login", "static", "language"})
# Until the first password is changed, only these pages open.
PASSWORD_CHANGE_ROUTES = frozenset({"password", "logout", "static", "language"})


def cookie_storage(config: PanelConfig) -> EncryptedCookieStorage:
    """Encrypted, HTTP-only, same-site cookie storage keyed from the installation's secret."""
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"pikir staff session cookie"
    ).derive(config.secret_key)
    return EncryptedCookieStorage(
        key,
        cookie_name=COOKIE_NAME,
        path="/admin",
        httponly=True,
        samesite="Strict",
        secure=config.secure_cookies,
        max_age=int(config.security.session_absolute.total_seconds()),
    )


def csrf_token(session: Session) -> str:
    """The session's CSRF token, created on first use."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


async def start_session(request: web.Request, staff: StaffUser) -> None:
    """A fresh session for ``staff`` (a new CSRF token too, so nothing carries over)."""
    language = (await get_session(request)).get("lang")
    session = await new_session(request)
    now = request.app[CLOCK]().timestamp()
    session.update(
        {
            "staff": staff.id,
            "epoch": staff.session_epoch,
            "since": now,
            "seen": now,
            "csrf": secrets.token_urlsafe(32),
        }
    )
    if language:
        session["lang"] = language


async def end_session(request: web.Request) -> None:
    """Forget the session in this browser."""
    (await get_session(request)).invalidate()


@web.middleware
async def login_gate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Put the logged-in staff member on the request, or send the browser to the login page."""
    route = request.match_info.route.name
    if route == "static":
        return await handler(request)
    session = await get_session(request)
    csrf_token(session)
    staff = await _session_staff(request, session)
    if staff is None:
        if route in PUBLIC_ROUTES or request.match_info.http_exception is not None:
            return await handler(request)
        raise web.HTTPSeeOther(location=login_url(request))
    request[STAFF_KEY] = staff
    if staff.must_change_password and route not in PASSWORD_CHANGE_ROUTES:
        raise web.HTTPSeeOther(location=str(request.app.router["password"].url_for()))
    return await handler(request)


async def _session_staff(request: web.Request, session: Session) -> StaffUser | None:
    staff_id = session.get("staff")
    if not isinstance(staff_id, int):
        return None
    config = request.app[CONFIG]
    now = request.app[CLOCK]()
    since = _moment(session.get("since"))
    seen = _moment(session.get("seen"))
    if (
        since is None
        or seen is None
        or now - since > config.security.session_absolute
        or now - seen > config.security.session_idle
    ):
        _expire(session)
        return None
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        staff = await uow.staff.by_id(staff_id)
    if staff is None or not staff.active or staff.session_epoch != session.get("epoch"):
        _expire(session)
        return None
    # Every request is a use: the idle timeout counts from the last one, to the second. The
    # cookie is re-encrypted on each response (microseconds), the database is not written.
    session["seen"] = now.timestamp()
    return staff


def _expire(session: Session) -> None:
    # Keep the language and the CSRF token so the login form still works after a timeout.
    kept: dict[str, Any] = {k: session[k] for k in ("lang", "csrf") if k in session}
    session.clear()
    session.update(kept)
    session["expired"] = True


def _moment(value: object) -> datetime | None:
    if not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(value, UTC)


def login_url(request: web.Request) -> str:
    """The login page, remembering where the staff member wanted to go."""
    url = str(request.app.router["login"].url_for())
    if request.method == "GET":
        return f"{url}?next={quote(request.path_qs, safe='')}"
    return url


def safe_next(value: str | None, default: str) -> str:
    """``value`` if it is a path inside the panel, else ``default`` (no open redirects)."""
    if (
        value
        and value.startswith("/admin/")
        and not value.startswith("//")
        and "\\" not in value
        and len(value) <= 2000
    ):
        return value
    return default
