"""Telegram's sending limits: about 30 messages a second per bot and one a second per chat."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

# Telegram counts messages as they arrive. A message that leaves a few ms late (a busy event
# loop, a slow connection) while the next one leaves on time would put one message too many
# into a second, or two into one chat's interval; so every second and every interval is kept
# this much longer (BENCHMARKS.md, "Outbox delivery rate").
ARRIVAL_MARGIN = 0.05


def slot_spacing(per_second: float, per_chat_interval: float) -> tuple[float, float]:
    """Seconds between any two slots and between two slots of one chat, the margin included."""
    per_chat = per_chat_interval + ARRIVAL_MARGIN if per_chat_interval > 0 else 0.0
    return (1.0 + ARRIVAL_MARGIN) / per_second, per_chat


def send_window(per_second: float) -> tuple[int, float]:
    """At most this many sends in any window of this many seconds (the margin included)."""
    most = max(1, int(per_second))
    return most, most * (1.0 + ARRIVAL_MARGIN) / per_second


class RateLimiter:
    """Hands out send slots: at most ``per_second`` in any second, one per ``per_chat_interval``.

    Each caller reserves the earliest slot that satisfies both limits and sleeps until it, so
    concurrent senders never burst past the limits. :meth:`pause` pushes every slot back after
    the channel answered "too many requests".
    """

    def __init__(
        self,
        per_second: float = 30.0,
        per_chat_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._spacing, self._per_chat = slot_spacing(per_second, per_chat_interval)
        self._most, self._window = send_window(per_second)
        self._clock = clock
        self._next_global = 0.0
        self._next_chat: dict[str, float] = {}
        self._sent: deque[float] = deque()
        self._sent_to: dict[str, float] = {}

    def reserve(self, chat: str) -> float:
        """Reserve a slot for ``chat``; how many seconds from now it starts."""
        now = self._clock()
        slot = max(now, self._next_global, self._next_chat.get(chat, 0.0))
        self._next_global = slot + self._spacing
        self._next_chat[chat] = slot + self._per_chat
        if len(self._next_chat) > 50_000:
            self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}
        return slot - now

    def admit(self, chat: str) -> float:
        """0 when a send to ``chat`` now keeps within the limits (and it is counted), else the
        seconds to wait: the limits are checked against the sends made, not only planned."""
        now = self._clock()
        while self._sent and self._sent[0] <= now - self._window:
            self._sent.popleft()
        wait = self._sent[0] + self._window - now if len(self._sent) >= self._most else 0.0
        last = self._sent_to.get(chat)
        if last is not None:
            wait = max(wait, last + self._per_chat - now)
        if wait > 0:
            return wait
        self._sent.append(now)
        self._sent_to[chat] = now
        if len(self._sent_to) > 50_000:
            self._sent_to = {c: t for c, t in self._sent_to.items() if t > now - self._per_chat}
        return 0.0

    async def acquire(self, chat: str) -> None:
        """Wait for a slot for ``chat``."""
        delay = self.reserve(chat)
        if delay > 0:
            await asyncio.sleep(delay)

    def pause(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (the channel's ``retry_after``)."""
        self._next_global = max(self._next_global, self._clock() + seconds)


class LocalSendSlots:
    """A :class:`RateLimiter` of this process behind the :class:`SendSlots` port."""

    def __init__(self, limiter: RateLimiter) -> None:
        self._limiter = limiter

    async def reserve(self, chat: str) -> float:
        """Reserve the earliest slot for ``chat``."""
        return self._limiter.reserve(chat)

    async def admit(self, chat: str) -> float:
        """Check a send to ``chat`` now against the sends made."""
        return self._limiter.admit(chat)

    async def pause(self, seconds: float) -> None:
        """Send nothing for ``seconds``."""
        self._limiter.pause(seconds)
