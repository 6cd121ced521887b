"""One conversation per browser: an opaque random token in an HttpOnly cookie.

The token never reaches the database: the conversation is stored under a keyed hash of it
(the ``chat_key``), so a database reader cannot take over a citizen's chat.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from aiohttp import web

COOKIE = "pikir_chat"
COOKIE_PATH = "/chat"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


def new_token() -> str:
    """A fresh browser token: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(32)


def chat_key(secret_key: bytes, token: str) -> str:
    """The conversation's key for a browser token (64 hex characters)."""
    return hmac.new(secret_key, f"web:{token}".encode(), hashlib.sha256).hexdigest()


def token_of(request: web.Request) -> str | None:
    """The request's browser token, if it carries a well-formed one."""
    token = request.cookies.get(COOKIE, "")
    return token if _TOKEN.fullmatch(token) else None


def set_token_cookie(
    response: web.StreamResponse, token: str, *, days: int, secure: bool, embedded: bool
) -> None:
    """Store the token in the browser: HttpOnly, SameSite, limited to the chat's path.

    Inside an agency's page (the widget) the chat is a third-party frame, where only a
    ``SameSite=None`` cookie is sent; that needs HTTPS, and is partitioned per embedding site.
    """
    max_age = days * 24 * 3600
    if embedded and secure:
        # Python 3.11's cookie module knows no "Partitioned" attribute; the header is written
        # by hand (the token is URL-safe, so nothing needs quoting).
        response.headers.add(
            "Set-Cookie",
            f"{COOKIE}={token}; Max-Age={max_age}; Path={COOKIE_PATH}; HttpOnly; Secure; "
            "SameSite=None; Partitioned",
        )
        return
    response.set_cookie(
        COOKIE,
        token,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        secure=secure,
        samesite="Lax",
    )


def looks_like_chat_key(value: str) -> bool:
    """Whether ``value`` has the shape of a chat key (an outbox address for the web channel)."""
    return re.fullmatch(r"[0-9a-f]{64}", value) is not None
