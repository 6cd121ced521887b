"""Button callback data: ``<version>|<action>|<argument>``, at most 64 bytes.

The version is the conversation's version when the buttons were rendered; a press whose version
is not the current one comes from an old message and is answered as stale.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.conversation.replies import MAX_CALLBACK_BYTES

SEPARATOR = "|"


@dataclass(frozen=True)
class Pressed:
    """A decoded button press."""

    version: int
    action: str
    argument: str


def encode(version: int, action: str, argument: str = "") -> str:
    """The callback data of a button for ``action`` rendered at ``version``."""
    data = f"{version}{SEPARATOR}{action}{SEPARATOR}{argument}"
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data too long: {data!r}")
    return data


def decode(data: str) -> Pressed | None:
    """The press encoded in ``data``, or None if it is not ours (forged or from another bot)."""
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        return None
    parts = data.split(SEPARATOR)
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1]:
        return None
    return Pressed(int(parts[0]), parts[1], parts[2])
