"""Photo upload: ``POST /chat/upload`` with one multipart field ``photo``.

The server decides what a file is from its first bytes (JPEG, PNG or WebP), never from the
name or the declared type, and stops reading past the size limit. A JPEG loses its Exif, XMP
and IPTC segments before it is stored: a phone photo's GPS position must not unmask an
anonymous citizen. Only the Exif orientation is kept, in a new Exif segment of its own, so that
a photo taken with the phone held upright is shown upright to staff.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Literal

from aiohttp import BodyPartReader, web

from bot.conversation import Photo, Verdict
from bot.conversation.i18n import _
from bot.web.chrome import PAGE_FALLBACK_LANGUAGE, language_from_accept
from bot.web.guards import client_address, origin_allowed
from bot.web.identity import chat_key, token_of
from bot.web.runtime import RUNTIME

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
CHUNK = 64 * 1024
MULTIPART_OVERHEAD = 64 * 1024
# JPEG segments that carry metadata: APP1 (Exif, XMP), APP13 (IPTC), COM (comments).
_METADATA_MARKERS = frozenset({0xE1, 0xED, 0xFE})
_EXIF = b"Exif\x00\x00"
_ORIENTATION_TAG = 0x0112


def sniff_image(head: bytes) -> str | None:
    """The image type of a file from its first bytes, or None if it is not an allowed one."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def strip_jpeg_metadata(data: bytes) -> bytes | None:
    """The JPEG without Exif/XMP/IPTC/comment segments, save its orientation; None if broken."""
    if data[:2] != b"\xff\xd8":
        return None
    out = bytearray(b"\xff\xd8")
    header_end = len(out)  # where the kept orientation goes: after SOI and a leading JFIF APP0
    orientation: int | None = None
    index = 2
    while index + 2 <= len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        if marker == 0xFF:  # fill byte before a marker
            index += 1
            continue
        if marker == 0xDA:  # start of scan: the compressed image follows to the end
            out += data[index:]
            if orientation is not None and orientation != 1:
                out[header_end:header_end] = orientation_segment(orientation)
            return bytes(out)
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            out += data[index : index + 2]
            index += 2
            continue
        if index + 4 > len(data):
            return None
        length = int.from_bytes(data[index + 2 : index + 4], "big")
        end = index + 2 + length
        if length < 2 or end > len(data):
            return None
        if marker == 0xE1 and orientation is None:
            orientation = exif_orientation(data[index + 4 : end])
        if marker not in _METADATA_MARKERS:
            out += data[index:end]
            if marker == 0xE0 and header_end == 2:
                header_end = len(out)
        index = end
    return None


def exif_orientation(payload: bytes) -> int | None:
    """The Orientation (1–8) in an APP1 segment's payload, or None if it has none."""
    if not payload.startswith(_EXIF):
        return None
    tiff = payload[len(_EXIF) :]
    order: Literal["little", "big"]
    if tiff[:2] == b"II":
        order = "little"
    elif tiff[:2] == b"MM":
        order = "big"
    else:
        return None
    first_ifd = int.from_bytes(tiff[4:8], order)
    if first_ifd + 2 > len(tiff):
        return None
    for number in range(int.from_bytes(tiff[first_ifd : first_ifd + 2], order)):
        entry = first_ifd + 2 + 12 * number
        if entry + 12 > len(tiff):
            return None
        if int.from_bytes(tiff[entry : entry + 2], order) == _ORIENTATION_TAG:
            value = int.from_bytes(tiff[entry + 8 : entry + 10], order)
            return value if 1 <= value <= 8 else None
    return None


def orientation_segment(orientation: int) -> bytes:
    """An APP1 Exif segment that holds the Orientation tag and nothing else."""
    entry = (
        _ORIENTATION_TAG.to_bytes(2, "big")
        + (3).to_bytes(2, "big")  # type SHORT
        + (1).to_bytes(4, "big")  # one value
        + orientation.to_bytes(2, "big")
        + b"\x00\x00"  # padding of the 4-byte value field
    )
    tiff = b"MM\x00\x2a" + (8).to_bytes(4, "big") + (1).to_bytes(2, "big") + entry
    payload = _EXIF + tiff + (0).to_bytes(4, "big")  # no next IFD
    return b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload


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

    if runtime.guards.event(key, client_address(request)) is not Verdict.ALLOW:
        return refuse(429, "flood.notice")
    if not await conversations.accepts_photo(key):
        return refuse(409, "photo.not_now")
    limit = options.max_photo_bytes
    if (request.content_length or 0) > limit + MULTIPART_OVERHEAD:
        return refuse(413, "photo.too_big")
    data = await _read_photo_field(request, limit)
    if data is None:
        return refuse(400, _("web.photo_type"))
    if len(data) > limit:
        return refuse(413, "photo.too_big")
    content_type = sniff_image(data[:16])
    if content_type == "image/jpeg":
        data = strip_jpeg_metadata(data) or b""
    if content_type is None or not data:
        return refuse(415, _("web.photo_type"))
    name = f"{secrets.token_hex(16)}.{EXTENSIONS[content_type]}"
    await asyncio.to_thread(_write, options.uploads_dir / name, data)
    photo = Photo(f"{options.upload_prefix}/{name}", len(data), content_type)
    await conversations.photo(key, photo, hint, conversations.text(language, "web.photo_sent"))
    return web.json_response({"ok": True})


async def _read_photo_field(request: web.Request, limit: int) -> bytes | None:
    """The bytes of the ``photo`` field, at most ``limit + 1`` of them; None if it is absent."""
    try:
        reader = await request.multipart()
        part = await reader.next()
    except (ValueError, AssertionError, KeyError):  # not multipart, or a malformed body
        return None
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
