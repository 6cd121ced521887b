"""Small pure parts of the web chat: language guess, frames, cookies, origins, images."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from PIL import Image, PngImagePlugin

from bot.conversation import TokenBuckets
from bot.web.chrome import language_from_accept
from bot.web.config import ChatOptions
from bot.web.conversations import messages_frame
from bot.web.frames import OpenFrame, PressFrame, TextFrame, parse_frame, printable
from bot.web.guards import origin_allowed
from bot.web.hub import ChatHub, StaffRelay
from bot.web.identity import chat_key, new_token, set_token_cookie
from bot.web.image_metadata import (
    exif_orientation,
    sniff_image,
    strip_jpeg_metadata,
    without_metadata,
)
from bot.web.page import office_param
from storage.models import WebAuthor, WebMessage
from tests.webchat.images import GPS_MARKER, jpeg_with_exif, jpeg_with_orientation, png


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("kk-KZ,kk;q=0.9,ru;q=0.8", "kk"),
        ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"),
        ("de-DE,de;q=0.9,en;q=0.5,ru;q=0.6", "ru"),
        ("en-GB", "en"),
        ("de, fr;q=0.5", None),
        ("ru;q=0, en;q=0.1", "en"),
        ("kk;q=abc, ru", "ru"),
        ("", None),
        (None, None),
    ],
)
def test_language_from_accept_language(header: str | None, expected: str | None) -> None:
    assert language_from_accept(header) == expected


def test_frames_are_parsed_strictly() -> None:
    assert parse_frame('{"type": "open", "office": "AST-01", "lang": "kk"}') == OpenFrame(
        "AST-01", "kk"
    )
    assert parse_frame('{"type": "open", "office": "../../etc", "lang": "de"}') == OpenFrame(
        None, None
    )
    assert parse_frame('{"type": "text", "text": "сәлем"}') == TextFrame("сәлем")
    assert parse_frame('{"type": "press", "data": "3|n|4"}') == PressFrame("3|n|4")
    for raw in ('{"type": "press", "data": ""}', '{"type": "open", "office": 5}', "null", "1"):
        assert parse_frame(raw) is None, raw
    assert printable("a\x00b\x1bc\nd\te\ud800😀") == "abc\nd\te😀"


def test_office_codes_from_the_address_are_checked() -> None:
    assert office_param(" AST-01 ") == "AST-01"
    assert office_param("<script>") is None and office_param("x" * 40) is None
    assert office_param(None) is None


def test_chat_key_is_a_keyed_hash_of_the_token() -> None:
    token = new_token()
    key = chat_key(b"one", token)
    assert len(key) == 64 and token not in key
    assert key == chat_key(b"one", token) != chat_key(b"two", token)


def test_cookie_attributes_for_the_page_and_the_embedded_widget() -> None:
    plain = web.Response()
    set_token_cookie(plain, "t" * 43, days=1, secure=True, embedded=False)
    cookie = plain.cookies["pikir_chat"]
    assert cookie["samesite"] == "Lax" and cookie["secure"] and cookie["httponly"]
    framed = web.Response()
    set_token_cookie(framed, "t" * 43, days=1, secure=True, embedded=True)
    header = framed.headers["Set-Cookie"]
    assert header.startswith("pikir_chat=" + "t" * 43 + ";")
    for attribute in ("SameSite=None", "Partitioned", "Secure", "HttpOnly", "Path=/chat"):
        assert attribute in header
    # Without HTTPS a cross-site cookie is impossible; it stays Lax.
    insecure = web.Response()
    set_token_cookie(insecure, "t" * 43, days=1, secure=False, embedded=True)
    assert insecure.cookies["pikir_chat"]["samesite"] == "Lax"


def _options(**overrides: object) -> ChatOptions:
    return ChatOptions(
        secret_key=b"k",
        public_origin="https://pikir.example",
        uploads_dir=Path("/nonexistent"),
        **overrides,  # type: ignore[arg-type]
    )


def test_origin_check() -> None:
    options = _options(allowed_origins=("https://egov.example",))

    def allowed(origin: str | None, host: str = "pikir.internal:8080") -> bool:
        headers = {"Host": host}
        if origin is not None:
            headers["Origin"] = origin
        return origin_allowed(make_mocked_request("GET", "/chat/ws", headers=headers), options)

    assert allowed("https://pikir.example") and allowed("https://EGOV.example")
    assert allowed("http://pikir.internal:8080")  # same host as the request
    assert not allowed("https://evil.example") and not allowed(None) and not allowed("null")
    assert not allowed("https://pikir.example.evil.example")


def test_image_types_are_sniffed_and_jpeg_metadata_is_stripped() -> None:
    assert sniff_image(png()[:16]) == "image/png"
    assert sniff_image(jpeg_with_exif()[:16]) == "image/jpeg"
    assert sniff_image(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff_image(b"GIF89a") is None and sniff_image(b"") is None
    original = jpeg_with_exif()
    stripped = strip_jpeg_metadata(original)
    assert stripped is not None and GPS_MARKER in original and GPS_MARKER not in stripped
    assert stripped.endswith(original[original.index(b"\xff\xda") :])
    assert strip_jpeg_metadata(b"\xff\xd8\xff\xe1\x00\xff") is None
    assert strip_jpeg_metadata(b"\xff\xd8\xff\xe0\x00\x10JFIF") is None  # cut before the scan


def test_a_jpeg_keeps_its_orientation_and_nothing_else_of_its_exif() -> None:
    original = jpeg_with_orientation(6)  # the phone was held upright
    stripped = strip_jpeg_metadata(original)
    assert stripped is not None and GPS_MARKER in original and GPS_MARKER not in stripped
    assert stripped.endswith(original[original.index(b"\xff\xdb") :])
    # After SOI and the JFIF segment comes an Exif segment with the orientation alone.
    jfif_end = 2 + 2 + int.from_bytes(stripped[4:6], "big")
    assert stripped[jfif_end : jfif_end + 2] == b"\xff\xe1"
    length = int.from_bytes(stripped[jfif_end + 2 : jfif_end + 4], "big")
    payload = stripped[jfif_end + 4 : jfif_end + 2 + length]
    assert exif_orientation(payload) == 6 and len(payload) == 6 + 8 + 2 + 12 + 4
    # An upright photo (orientation 1) or one without Exif needs no segment at all.
    assert b"Exif" not in (strip_jpeg_metadata(jpeg_with_orientation(1)) or b"Exif")
    assert exif_orientation(b"Exif\x00\x00II*\x00\xff\xff\xff\x7f") is None  # broken offset


@pytest.mark.parametrize(("kind", "content_type"), [("PNG", "image/png"), ("WEBP", "image/webp")])
def test_png_and_webp_lose_their_exif_and_text_but_keep_the_picture(
    kind: str, content_type: str
) -> None:
    picture = Image.new("RGB", (24, 16), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825)[2] = (43.0, 14.0, 20.0)  # a GPS latitude
    buffer = io.BytesIO()
    extra: dict[str, object] = {
        "exif": exif.tobytes(),
        "xmp": b"<x:xmpmeta>GPS</x:xmpmeta>",
        "lossless": True,
    }
    if kind == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "taken by Aigerim")
        extra = {"exif": exif.tobytes(), "pnginfo": info}
    picture.save(buffer, kind, **extra)
    original = buffer.getvalue()
    assert b"PhoneMaker" in original
    stripped = without_metadata(content_type, original)
    assert stripped is not None
    for secret in (b"PhoneMaker", b"Aigerim", b"xmpmeta"):
        assert secret not in stripped
    if kind == "WEBP":  # the extended header no longer announces EXIF or XMP
        assert stripped[12:16] == b"VP8X" and original[20] & 0x0C and not stripped[20] & 0x0C
    reopened = Image.open(io.BytesIO(stripped))
    reopened.load()
    assert reopened.size == (24, 16) and not reopened.getexif()
    assert reopened.convert("RGB").getpixel((5, 5)) == picture.getpixel((5, 5))
    assert without_metadata(content_type, original[: len(original) // 2]) is None


def test_address_buckets_limit_without_muting() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate=2.0, burst=3, clock=lambda: now[0], max_keys=5)
    assert [buckets.take("10.0.0.1") for _ in range(4)] == [True, True, True, False]
    assert buckets.take("10.0.0.2")  # another address has its own budget
    now[0] = 0.5  # one token back after half a second, however often it was asked for
    assert buckets.take("10.0.0.1") and not buckets.take("10.0.0.1")
    for index in range(50):
        buckets.take(f"192.0.2.{index}")
    assert len(buckets._buckets) <= 5


async def test_the_relay_pushes_late_commits_once_and_only_to_their_chat() -> None:
    class Page:
        closed = False

        def __init__(self) -> None:
            self.frames: list[dict[str, object]] = []

        async def send_json(self, frame: dict[str, object]) -> None:
            self.frames.append(frame)

    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    stored: list[WebMessage] = []

    async def load_since(since: datetime, chats: Sequence[str]) -> list[WebMessage]:
        return [m for m in stored if m.chat_key in chats and m.created_at > since]

    def reply(id_: int, chat: str, seconds_ago: int) -> WebMessage:
        return WebMessage(
            id=id_,
            chat_key=chat,
            author=WebAuthor.STAFF,
            text=f"reply {id_}",
            created_at=now - timedelta(seconds=seconds_ago),
        )

    hub = ChatHub()
    first, second = Page(), Page()
    hub.join("a", first)  # type: ignore[arg-type]
    hub.join("b", second)  # type: ignore[arg-type]
    relay = StaffRelay(hub, load_since, messages_frame, clock=lambda: now)
    stored.append(reply(11, "a", 1))
    assert await relay.relay_once() == 1
    stored.append(reply(10, "a", 2))  # a lower id that committed later
    stored.append(reply(12, "gone", 1))  # a chat not open here
    assert await relay.relay_once() == 1
    assert await relay.relay_once() == 0
    assert [[m["id"] for m in f["messages"]] for f in first.frames] == [[11], [10]]  # type: ignore[attr-defined]
    assert second.frames == []
