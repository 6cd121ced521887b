"""Browser-side protections: security headers on every response, CSRF tokens on every change.

The CSRF check is the first to read a form; a body that cannot be read as one (no or a wrong
multipart boundary, a line past aiohttp's limit, bytes that are not in the declared charset,
an unknown charset) is a 400 with a short message and one warning line, before anything else
looks at it. The form read here is kept by aiohttp for the handler.
"""

from __future__ import annotations

import hmac
from collections.abc import MutableMapping

import structlog
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_request import FileField
from aiohttp_session import get_session
from multidict import MultiDictProxy

from admin.access import Handler
from admin.i18n import N_

log = structlog.get_logger("pikir.admin")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# What aiohttp raises for a body it cannot read as a form (LookupError: an unknown charset;
# HttpProcessingError: a multipart header line past its limit).
MALFORMED_BODY_ERRORS = (
    ValueError,
    AssertionError,
    LookupError,
    HttpProcessingError,
    web.HTTPBadRequest,
)
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"

# No inline script or style anywhere in the panel: everything comes from /admin/static.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Add the security headers; pages (not static files) are never stored by caches."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _apply(exc.headers, cacheable=False)
        raise
    _apply(response.headers, cacheable=request.match_info.route.name == "static")
    return response


def _apply(headers: MutableMapping[str, str], *, cacheable: bool) -> None:
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)
    if not cacheable:
        headers["Cache-Control"] = "no-store"


@web.middleware
async def csrf_protect(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a state-changing request without the session's CSRF token."""
    if request.method in SAFE_METHODS:
        return await handler(request)
    session = await get_session(request)
    expected = session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if request.content_type in FORM_TYPES:
        form = await read_form(request)
        value = form.get(CSRF_FIELD)
        if sent is None:
            sent = value if isinstance(value, str) else None
    if not (
        isinstance(expected, str)
        and isinstance(sent, str)
        and hmac.compare_digest(expected.encode(), sent.encode())
    ):
        raise web.HTTPForbidden(
            text=N_("The form has expired or did not come from this panel. Reload the page.")
        )
    return await handler(request)


async def read_form(request: web.Request) -> MultiDictProxy[str | bytes | bytearray | FileField]:
    """The request's form, or a 400 if its body cannot be read as one."""
    try:
        return await request.post()
    except MALFORMED_BODY_ERRORS as exc:
        log.warning(
            "http.malformed_body",
            path=request.path,
            content_type=request.content_type,
            error=type(exc).__name__,
        )
        raise web.HTTPBadRequest(text=N_("The request could not be read.")) from None
