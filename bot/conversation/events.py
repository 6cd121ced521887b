"""What a citizen did, as a channel-independent event, and the envelope that carries it."""

from __future__ import annotations

from dataclasses import dataclass

from vocabulary import LANGUAGES as LANGUAGES  # the citizen can choose any of them


@dataclass(frozen=True)
class Start:
    """The conversation was opened, perhaps from an office's QR code (``office_code``)."""

    office_code: str | None = None


@dataclass(frozen=True)
class Text:
    """A free-text message."""

    text: str


@dataclass(frozen=True)
class Press:
    """A button was pressed; ``data`` is the button's callback data, exactly as rendered."""

    data: str


@dataclass(frozen=True)
class Command:
    """A command such as ``/status PK-7K3M9QX2``: ``name`` without the slash, lower case."""

    name: str
    args: str = ""


@dataclass(frozen=True)
class Photo:
    """A photo: a channel-specific reference to the file, its size in bytes, an optional caption."""

    file_ref: str
    size: int = 0
    content_type: str = "image/jpeg"
    caption: str | None = None


Event = Start | Text | Press | Command | Photo


@dataclass(frozen=True)
class Incoming:
    """One event for one chat on one channel.

    ``chat_key`` names the chat to answer in, ``user_key`` the person (only its keyed hash is
    stored). ``update_key`` is the channel's id of the delivery (a Telegram ``update_id``): a
    second delivery with the same key has no effect. ``language_hint`` is the language the
    channel reports for the person (``kk``/``ru``/``en`` or None), used until they choose one.
    """

    channel: str
    chat_key: str
    user_key: str
    event: Event
    update_key: str | None = None
    language_hint: str | None = None


def parse_text(text: str) -> Event:
    """Turn a typed line into an event: ``/start CODE`` → :class:`Start`, ``/x args`` →
    :class:`Command`, anything else → :class:`Text`. ``/cmd@botname`` is accepted."""
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return Text(text)
    head, _, rest = stripped[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    if not name.replace("_", "").isalnum():
        return Text(text)
    args = rest.strip()
    if name == "start":
        return Start(args or None)
    return Command(name, args)


def language_from_hint(hint: str | None) -> str | None:
    """``kk``/``ru``/``en`` from a channel's language code such as ``ru-RU``; None otherwise."""
    if not hint:
        return None
    code = hint.strip().lower()[:2]
    return code if code in LANGUAGES else None
