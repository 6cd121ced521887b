"""What to show the citizen: replies with button rows, produced by the core for any channel."""

from __future__ import annotations

from dataclasses import dataclass, field

# Telegram's limit for a button's callback data; the core never renders longer data.
MAX_CALLBACK_BYTES = 64


@dataclass(frozen=True)
class Button:
    """A button: the label to show and the opaque data to send back in a :class:`Press`."""

    label: str
    data: str

    def __post_init__(self) -> None:
        if len(self.data.encode()) > MAX_CALLBACK_BYTES:
            raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {self.data!r}")


@dataclass(frozen=True)
class Reply:
    """One message to show.

    ``buttons`` are rows of buttons. ``expects_text`` says the next step wants free text (a
    channel may show an input hint). ``edit`` says this reply should replace the message whose
    button was pressed instead of being sent as a new message (only ever True in answer to a
    :class:`~bot.conversation.events.Press`, and only for the first reply of an outcome).
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    expects_text: bool = False
    edit: bool = False


@dataclass(frozen=True)
class Outcome:
    """The answer to one event: replies in order, and an optional short ``notice``.

    ``notice`` is a brief acknowledgement for a button press (Telegram shows it as a toast; the
    web chat may show it inline), e.g. that a button was out of date. ``duplicate`` is True when
    the event was a redelivery that had no effect; its replies then only ask the current
    question again. ``language`` is
    the language the conversation now talks in (a channel may translate its own chrome to it).
    ``erased`` is True when the citizen has just erased their data, so a channel that keeps its
    own copy of the chat (the web chat's history) forgets it too.
    """

    replies: list[Reply] = field(default_factory=list)
    notice: str | None = None
    duplicate: bool = False
    submitted_ref: str | None = None
    language: str | None = None
    erased: bool = False
