"""Button callback data: ``<version>|<action>|<argument>``, at most 64 bytes.

The version is the conversation's version when the buttons were rendered; a press whose version
is not the current one comes from an old message and is answered as stale. The action is one of
:class:`Action`, written on the wire as its short code so that the data fits Telegram's limit.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.conversation.replies import MAX_CALLBACK_BYTES

SEPARATOR = "|"


class Action(enum.StrEnum):
    """What a button does. The value is the code in the callback data: short, because the
    data (with the version and an argument such as a category key) must fit in 64 bytes, and
    fixed, because buttons on messages already sent carry it."""

    BACK = "b"
    CANCEL = "x"
    START_AGAIN = "g"
    # The language offered with the welcome: valid on any message, however old.
    SWITCH_LANGUAGE = "L"
    # The receipt's status button: valid on any message, however old.
    STATUS = "q"
    LANGUAGE = "l"
    REGION = "r"
    OFFICE = "o"
    OFFICE_PAGE = "op"
    CATEGORY = "c"
    SERVICE = "s"
    SERVICE_PAGE = "sp"
    RATING = "n"
    CRITERION = "k"
    TEXT = "t"
    SKIP_PHOTO = "p"
    CONSENT = "a"
    ERASE = "e"


class Answer(enum.StrEnum):
    """The fixed arguments of the buttons that answer a question rather than pick an item."""

    YES = "y"
    NO = "n"
    SKIP = "s"
    # The comment typed at an earlier question, kept as it is.
    KEEP = "k"
    # "Other", "unknown" or "none": the item the citizen could not or would not pick.
    NONE = "-"


@dataclass(frozen=True)
class Pressed:
    """A decoded button press."""

    version: int
    action: Action
    argument: str


def encode(version: int, action: Action, argument: str = "") -> str:
    """The callback data of a button for ``action`` rendered at ``version``."""
    data = f"{version}{SEPARATOR}{action.value}{SEPARATOR}{argument}"
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data too long: {data!r}")
    return data


def decode(data: str) -> Pressed | None:
    """The press encoded in ``data``, or None if it is not ours (forged, from another bot, or
    an action this version does not know)."""
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        return None
    parts = data.split(SEPARATOR)
    if len(parts) != 3 or not parts[0].isdigit():
        return None
    try:
        action = Action(parts[1])
    except ValueError:
        return None
    return Pressed(int(parts[0]), action, parts[2])
