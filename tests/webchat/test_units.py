"""Small pure parts of the web chat: language guess, frames, cookies, origins, images."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from PIL import Image, ImageChops, ImageStat, PngImagePlugin

from bot.conversation import ChatMessage, TokenBuckets
from bot.settings import WebChatSettings
from bot.web.chrome import language_from_accept
from bot.web.config import ChatOptions
from bot.web.conversations import messages_frame
from bot.web.frames import OpenFrame, PressFrame, TextFrame, parse_frame, printable
from bot.web.guards import origin_allowed
from bot.web.hub import ChatHub, StaffRelay
from bot.web.identity import chat_key, new_token, set_token_cookie
from bot.web.image_metadata import CleanImage, Refusal, clean_image, sniff_image
from bot.web.page import office_param
from tests.webchat.images import (
    DEVICE,
    GPS_MARKER,
    jpeg_with_exif,
    jpeg_with_jpeg_appended,
    jpeg_with_orientation,
    mpo_with_exif,
    picture,
    png,
    png_bomb,
)


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
        data_dir=Path("/nonexistent"),
        max_concurrent_events=1,
        **overrides,  # type: ignore[arg-type]
    )


def test_origin_check() -> None:
    options = _options(webchat=WebChatSettings(allowed_origins=["https://egov.example"]))

    def allowed(origin: str | None, host: str = "pikir.internal:8080") -> bool:
        headers = {"Host": host}
        if origin is not None:
            headers["Origin"] = origin
        return origin_allowed(make_mocked_request("GET", "/chat/ws", headers=headers), options)

    assert allowed("https://pikir.example") and allowed("https://EGOV.example")
    assert allowed("http://pikir.internal:8080")  # same host as the request
    assert not allowed("https://evil.example") and not allowed(None) and not allowed("null")
    assert not allowed("https://pikir.example.evil.example")


def _cleaned(data: bytes) -> CleanImage:
    cleaned = clean_image(data)
    assert isinstance(cleaned, CleanImage), cleaned
    return cleaned


def _no_trace_of_the_citizen(data: bytes) -> None:
    for secret in (GPS_MARKER, DEVICE.encode(), b"SecondFramePhone", b"Aigerim", b"xmpmeta"):
        assert secret not in data
    reopened = Image.open(io.BytesIO(data))
    assert getattr(reopened, "n_frames", 1) == 1
    exif = reopened.getexif()
    assert set(exif) <= {0x0112} and not exif.get_ifd(0x8825)
    assert not {"xmp", "XML:com.adobe.xmp", "comment", "Comment"} & set(reopened.info)


def test_image_types_are_sniffed_and_jpeg_metadata_is_stripped() -> None:
    assert sniff_image(png()[:16]) == "image/png"
    assert sniff_image(jpeg_with_exif()[:16]) == "image/jpeg"
    assert sniff_image(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff_image(b"GIF89a") is None and sniff_image(b"") is None
    original = jpeg_with_exif()
    assert GPS_MARKER in original and b"Aigerim" in original
    cleaned = _cleaned(original)
    assert cleaned.content_type == "image/jpeg" and cleaned.size == (32, 24)
    assert cleaned.data.startswith(b"\xff\xd8") and cleaned.data.endswith(b"\xff\xd9")
    _no_trace_of_the_citizen(cleaned.data)
    # Re-encoded with the original's own tables: on average the same to within a level.
    before = Image.open(io.BytesIO(original)).convert("RGB")
    after = Image.open(io.BytesIO(cleaned.data)).convert("RGB")
    assert max(ImageStat.Stat(ImageChops.difference(before, after)).mean) < 1


def test_a_jpeg_keeps_its_orientation_and_nothing_else_of_its_exif() -> None:
    cleaned = _cleaned(jpeg_with_orientation(6))  # the phone was held upright
    _no_trace_of_the_citizen(cleaned.data)
    assert dict(Image.open(io.BytesIO(cleaned.data)).getexif()) == {0x0112: 6}
    # An upright photo (orientation 1) needs no Exif at all.
    assert b"Exif" not in _cleaned(jpeg_with_orientation(1)).data


def test_the_second_picture_of_an_mpo_and_anything_after_the_end_are_dropped() -> None:
    mpo = mpo_with_exif()
    assert b"SecondFramePhone" in mpo and Image.open(io.BytesIO(mpo)).format == "MPO"
    cleaned = _cleaned(mpo)
    assert cleaned.content_type == "image/jpeg"
    _no_trace_of_the_citizen(cleaned.data)
    appended = jpeg_with_jpeg_appended()
    assert GPS_MARKER in appended
    cleaned = _cleaned(appended)
    _no_trace_of_the_citizen(cleaned.data)
    assert cleaned.data.count(b"\xff\xd8") == 1


def test_what_does_not_decode_or_is_a_bomb_is_refused() -> None:
    bomb = png_bomb()
    assert len(bomb) < 200_000
    assert clean_image(bomb) is Refusal.TOO_MANY_PIXELS
    assert clean_image(png(40, 40), max_pixels=1000) is Refusal.TOO_MANY_PIXELS
    good = jpeg_with_exif()
    for broken in (good[: len(good) // 2], png()[:30], b"\xff\xd8\xff\xe1\x00\xff", b"GIF89a"):
        assert clean_image(broken) is Refusal.NOT_AN_IMAGE
    assert clean_image(b"") is Refusal.NOT_AN_IMAGE


@pytest.mark.parametrize(("kind", "content_type"), [("PNG", "image/png"), ("WEBP", "image/webp")])
def test_png_and_webp_lose_their_exif_and_text_but_keep_the_picture(
    kind: str, content_type: str
) -> None:
    original_picture = picture(24, 16)
    exif = Image.Exif()
    exif[0x010F] = DEVICE
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
    original_picture.save(buffer, kind, **extra)
    original = buffer.getvalue()
    assert DEVICE.encode() in original
    cleaned = _cleaned(original)
    assert cleaned.content_type == content_type
    _no_trace_of_the_citizen(cleaned.data)
    reopened = Image.open(io.BytesIO(cleaned.data))
    assert reopened.size == (24, 16)
    # Lossless in, lossless out: every pixel is the same.
    assert ImageChops.difference(reopened.convert("RGB"), original_picture).getbbox() is None


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
    stored: list[tuple[datetime, ChatMessage]] = []

    async def load_since(since: datetime, chats: Sequence[str]) -> list[ChatMessage]:
        return [m for at, m in stored if m.chat_key in chats and at > since]

    def reply(id_: int, chat: str, seconds_ago: int) -> tuple[datetime, ChatMessage]:
        message = ChatMessage("staff", f"reply {id_}", id=id_, chat_key=chat)
        return now - timedelta(seconds=seconds_ago), message

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
