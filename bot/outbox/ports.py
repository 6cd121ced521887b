"""The sender port: one per channel; the worker decides when to retry and when to give up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    """One outbox row as a sender sees it."""

    id: int
    address: str
    kind: str
    text: str
    payload: dict[str, Any] | None = None


class SendSlots(Protocol):
    """The channel's sending limits: a global rate and one message per interval per chat.

    In one process a :class:`~bot.outbox.limiter.RateLimiter`; shared by the workers in Redis.
    """

    async def reserve(self, chat: str) -> float:
        """Reserve the earliest slot for ``chat``; how many seconds from now it starts."""
        ...

    async def admit(self, chat: str) -> float:
        """Check, just before a send, the sends made (not planned): 0 when this one keeps
        within both limits, and it is counted; else the seconds to wait before asking again.

        A slot's send that left late (a busy worker) is counted when it left, so a later
        slot's send waits for it rather than put one message too many into a second.
        """
        ...

    async def pause(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (the channel's ``retry_after``)."""
        ...


class RetryLater(Exception):
    """The channel asked us to slow down (Telegram's 429): wait ``seconds``, then retry."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds}s")
        self.seconds = seconds


class DeliveryRefused(Exception):
    """A final failure: the citizen blocked the bot, the chat is gone, the request is invalid."""


class Sender(Protocol):
    """Delivers a message on one channel. Any other exception is a transient failure."""

    async def send(self, message: OutgoingMessage) -> None:
        """Deliver ``message`` or raise :class:`RetryLater` / :class:`DeliveryRefused`."""
        ...


class DeliveryObserver(Protocol):
    """Told of every delivery attempt's result (metrics); must not fail or block."""

    def delivery(self, channel: str, result: str) -> None:
        """``result``: ``sent``, ``failed`` or ``throttled``."""
        ...
