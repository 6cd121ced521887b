"""Headers of every response the service sends, whatever part of it answers.

Each part sets its own Content Security Policy (the panel forbids framing; the chat may be
framed by the agency's sites); what a part did not set gets a strict default here, just before
the response goes out, so the health check, static files and error pages carry them too. The
``Server`` header names no software version. HSTS is sent when the public address is HTTPS.
"""

from __future__ import annotations

from aiohttp import web

SERVER = "pikir"
HSTS = "max-age=31536000"
DEFAULT_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def install_response_headers(app: web.Application, *, public_url: str) -> None:
    """Set the common headers on every response of ``app`` and of its sub-apps."""
    https = public_url.lower().startswith("https://")

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        headers = response.headers
        headers["Server"] = SERVER
        for name, value in COMMON.items():
            headers.setdefault(name, value)
        if "Content-Security-Policy" not in headers:
            headers["Content-Security-Policy"] = DEFAULT_POLICY
            headers.setdefault("X-Frame-Options", "DENY")
        if https:
            headers["Strict-Transport-Security"] = HSTS

    app.on_response_prepare.append(on_prepare)
