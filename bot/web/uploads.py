"""Photo upload: ``POST /chat/upload`` with one multipart field ``photo``.

The server decides what a file is from its content (JPEG, PNG or WebP that Pillow decodes),
never from the name or the declared type, and stops reading past the size limit. The picture
is written anew without its metadata before it is stored (:mod:`bot.web.image_metadata`); a
file that does not decode, or has too many pixels, is refused with a message in the citizen's
language.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import structlog
from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from bot.conversation import Photo, Verdict
from bot.conversation.i18n import N_
from bot.web.chrome import PAGE_FALLBACK_LANGUAGE, language_from_accept
from bot.web.guards import client_address, origin_allowed
from bot.web.identity import chat_key, token_of
from bot.web.image_metadata import CleanImage, Refusal, clean_image
from bot.web.runtime import RUNTIME

log = structlog.get_logger("pikir.web")
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
CHUNK = 64 * 1024
MULTIPART_OVERHEAD = 64 * 1024
# What aiohttp raises for a body it cannot read as multipart (LookupError: an unknown charset;
# HttpProcessingError: a header line past its limit).
MALFORMED_BODY_ERRORS = (ValueError, AssertionError, KeyError, LookupError, HttpProcessingError)
REFUSALS = {
    Refusal.NOT_AN_IMAGE: N_("web.photo_unreadable"),
    Refusal.TOO_MANY_PIXELS: N_("web.photo_too_many_pixels"),
}


async def upload_photo(request: web.Request) -> web.Response:
    """Store a photo for the conversation at its text or photo step and pass it to the core."""
    runtime = request.app[RUNTIME]
    options = runtime.options
    conversations = runtime.conversations
    hint = language_from_accept(request.headers.get("Accept-Language"))
    if not origin_allowed(request, options):
        return _refuse(403, "This page may not upload to the chat (origin not allowed).")
    token = token_of(request)
    if token is None:
        return _refuse(401, "No conversation cookie: open the chat page first.")
    key = chat_key(options.secret_key, token)
    language = await conversations.language(key) or hint or PAGE_FALLBACK_LANGUAGE

    def refuse(status: int, message_id: str) -> web.Response:
        return _refuse(status, conversations.text(language, message_id))

    if await runtime.guards.event(key, client_address(request)) is not Verdict.ALLOW:
        return refuse(429, "flood.notice")
    if not await conversations.accepts_photo(key):
        return refuse(409, "photo.not_now")
    limit = options.max_photo_bytes
    if (request.content_length or 0) > limit + MULTIPART_OVERHEAD:
        return refuse(413, "photo.too_big")
    data = await _read_photo_field(request, limit)
    if data is None:
        return refuse(400, N_("web.photo_type"))
    if len(data) > limit:
        return refuse(413, "photo.too_big")
    cleaned = await asyncio.to_thread(clean_image, data)
    if not isinstance(cleaned, CleanImage):
        return refuse(415, REFUSALS[cleaned])
    name = f"{secrets.token_hex(16)}.{EXTENSIONS[cleaned.content_type]}"
    await asyncio.to_thread(_write, options.uploads_dir / name, cleaned.data)
    photo = Photo(f"{options.upload_prefix}/{name}", len(cleaned.data), cleaned.content_type)
    await conversations.photo(key, photo, hint, conversations.text(language, "web.photo_sent"))
    return web.json_response({"ok": True})


async def _read_photo_field(request: web.Request, limit: int) -> bytes | None:
    """The bytes of the ``photo`` field, at most ``limit + 1`` of them; None if it is absent
    or the body is not a readable multipart form."""
    try:
        return await _read_field(request, limit)
    except MALFORMED_BODY_ERRORS as exc:
        log.warning("http.malformed_body", path=request.path, error=type(exc).__name__)
        return None


async def _read_field(request: web.Request, limit: int) -> bytes | None:
    reader = await request.multipart()
    part = await reader.next()
    if not isinstance(part, BodyPartReader) or part.name != "photo":
        return None
    data = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        data += chunk
        if len(data) > limit:
            break
    return bytes(data)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _refuse(status: int, text: str) -> web.Response:
    return web.json_response({"error": text}, status=status)
