"""What a page may send over the socket, checked field by field; anything else is refused."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass

from bot.conversation import LANGUAGES, MAX_CALLBACK_BYTES
from bot.web.page import office_param


@dataclass(frozen=True)
class OpenFrame:
    """The page opened: show the history; ``office`` comes from the QR code's link."""

    office: str | None
    language: str | None


@dataclass(frozen=True)
class TextFrame:
    """The citizen typed something."""

    text: str


@dataclass(frozen=True)
class PressFrame:
    """The citizen pressed a button; ``data`` is the button's data as the page received it."""

    data: str


ClientFrame = OpenFrame | TextFrame | PressFrame


def parse_frame(raw: str) -> ClientFrame | None:
    """The frame in ``raw``, or None when it is not valid JSON of a known, well-formed kind."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    kind = value.get("type")
    if kind == "open":
        office = value.get("office")
        language = value.get("lang")
        if office is not None and not isinstance(office, str):
            return None
        return OpenFrame(
            office_param(office),
            language if isinstance(language, str) and language in LANGUAGES else None,
        )
    if kind == "text":
        text = value.get("text")
        return TextFrame(printable(text)) if isinstance(text, str) else None
    if kind == "press":
        data = value.get("data")
        if isinstance(data, str) and 0 < len(data.encode()) <= MAX_CALLBACK_BYTES:
            return PressFrame(data)
    return None


def printable(text: str) -> str:
    """``text`` without control characters (line breaks and tabs stay) or lone surrogates.

    Neither can be shown, and PostgreSQL refuses NUL in text; any script and emoji are kept.
    """
    return "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in {"Cc", "Cs"}
    )
