"""The chat page at ``/chat`` and the widget script: HTML from a template, strict headers.

The page is plain HTML, CSS and one script file from this server; the Content Security Policy
allows nothing else (no inline script, no third-party request).
"""

from __future__ import annotations

import json
import re

import aiohttp_jinja2
from aiohttp import web

from bot.conversation.i18n import N_
from bot.web.chrome import PAGE_FALLBACK_LANGUAGE, all_chrome, chrome, language_from_accept
from bot.web.config import ChatOptions
from bot.web.guards import client_address
from bot.web.identity import chat_key, new_token, set_token_cookie, token_of
from bot.web.runtime import RUNTIME, TEMPLATES, WIDGET_SOURCE

_OFFICE_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")


def office_param(value: str | None) -> str | None:
    """The office code from ``?office=`` if it looks like one (the core checks it exists)."""
    value = (value or "").strip()
    return value if _OFFICE_CODE.fullmatch(value) else None


def security_headers(options: ChatOptions) -> dict[str, str]:
    """Headers of every page: a strict CSP, framing only by the configured agency sites."""
    ancestors = " ".join(("'self'", *options.webchat.embed_origins))
    policy = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'none'; base-uri 'none'; "
        f"frame-ancestors {ancestors}"
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    }


async def chat_page(request: web.Request) -> web.Response:
    """The chat page; a browser without a conversation gets its cookie here."""
    runtime = request.app[RUNTIME]
    options = runtime.options
    token = token_of(request)
    texts = runtime.conversations.text
    guessed = language_from_accept(request.headers.get("Accept-Language"))
    language = None
    if token is None:
        if not await runtime.guards.new_chat(client_address(request)):
            return web.Response(
                status=429,
                text=texts(guessed or PAGE_FALLBACK_LANGUAGE, N_("web.too_many_chats")),
                headers={"Retry-After": "60", **security_headers(options)},
            )
        token = new_token()
    else:
        language = await runtime.conversations.language(chat_key(options.secret_key, token))
    language = language or guessed or PAGE_FALLBACK_LANGUAGE
    embedded = request.query.get("embed") == "1"
    router = request.app.router
    context = {
        "lang": language,
        "t": chrome(texts, language),
        "all_chrome": all_chrome(texts),
        "office": office_param(request.query.get("office")) or "",
        "embedded": embedded,
        "max_text": runtime.conversations.max_text,
        "max_photo_bytes": options.max_photo_bytes,
        "socket_url": str(router["socket"].url_for()),
        "upload_url": str(router["upload"].url_for()),
        "script_url": str(router["static"].url_for(filename="chat.js")),
        "style_url": str(router["static"].url_for(filename="chat.css")),
        "icon_url": str(router["static"].url_for(filename="icon.svg")),
    }
    response = aiohttp_jinja2.render_template("chat.html", request, context, app_key=TEMPLATES)
    response.headers.update(security_headers(options))
    # Set on every visit, so the conversation lives as long as the citizen keeps coming back.
    set_token_cookie(
        response,
        token,
        days=options.webchat.cookie_days,
        secure=options.secure_cookies,
        embedded=embedded,
    )
    return response


async def widget_script(request: web.Request) -> web.Response:
    """The embeddable widget: the static script with the chat's address and labels filled in."""
    runtime = request.app[RUNTIME]
    source = request.app[WIDGET_SOURCE]
    labels = all_chrome(runtime.conversations.text)
    config = {
        "chatPath": str(request.app.router["page"].url_for()),
        "labels": {language: _widget_labels(strings) for language, strings in labels.items()},
    }
    body = source.replace("/*CONFIG*/{}", json.dumps(config, ensure_ascii=False))
    return web.Response(
        text=body,
        content_type="text/javascript",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


def _widget_labels(strings: dict[str, str]) -> dict[str, str]:
    return {key: strings[key] for key in ("widget_open", "widget_close", "widget_frame")}
