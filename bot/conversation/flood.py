"""A per-chat flood guard: a token bucket per chat; a flood gets one notice, then silence.

Once a chat has flooded it stays muted until it has been quiet for ``cooldown`` seconds (every
event while muted extends the mute), so a steady stream of spam gets no answers at all.

Pure and in memory (one per process), so an adapter can drop a flood before it reaches the
database: flooded events create no rows.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable


class Verdict(enum.Enum):
    """What to do with an event."""

    ALLOW = "allow"
    NOTICE = "notice"  # drop it, and tell the citizen once to slow down
    SILENT = "silent"  # drop it without a word


class TokenBuckets:
    """A plain token bucket per key: ``burst`` at once, ``rate`` a second after that.

    It never mutes by itself: the web chat limits addresses with it, and many phones share one
    carrier address, so one of them flooding must not silence the others for longer than the
    flood. At most ``max_keys`` buckets are kept; full ones are forgotten first.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, updated)

    def take(self, key: str) -> bool:
        """Take one token for ``key``; False when there is none left."""
        now = self._clock()
        if key not in self._buckets and len(self._buckets) >= self._max_keys:
            self._forget_full(now)
        tokens, updated = self._buckets.get(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - updated) * self._rate)
        allowed = tokens >= 1
        self._buckets[key] = (tokens - 1 if allowed else tokens, now)
        return allowed

    def __len__(self) -> int:
        """How many keys are remembered."""
        return len(self._buckets)

    def refill(self, key: str) -> None:
        """Give ``key`` its whole allowance again."""
        self._buckets.pop(key, None)

    def _forget_full(self, now: float) -> None:
        # A bucket that has refilled completely carries no information.
        full_after = self._burst / self._rate
        for key in [k for k, (_t, at) in self._buckets.items() if now - at >= full_after]:
            del self._buckets[key]
        if len(self._buckets) >= self._max_keys:
            self._buckets.clear()


class FloodGuard:
    """Allows ``burst`` events at once per chat and ``rate`` events per second after that."""

    def __init__(
        self,
        rate: float = 1.0,
        burst: int = 8,
        clock: Callable[[], float] = time.monotonic,
        max_chats: int = 100_000,
        cooldown: float = 10.0,
    ) -> None:
        self._buckets = TokenBuckets(rate, burst, clock, max_chats)
        self._cooldown = cooldown
        self._clock = clock
        self._max_chats = max_chats
        self._muted_until: dict[str, float] = {}

    def check(self, chat: str) -> Verdict:
        """Take one token for ``chat``; the verdict says whether the event may go on."""
        now = self._clock()
        muted_until = self._muted_until.get(chat)
        if muted_until is not None:
            if now < muted_until:
                self._muted_until[chat] = now + self._cooldown
                return Verdict.SILENT
            # Quiet long enough: forgiven, with a full allowance.
            del self._muted_until[chat]
            self._buckets.refill(chat)
        if self._buckets.take(chat):
            return Verdict.ALLOW
        if len(self._muted_until) >= self._max_chats:
            self._forget_forgiven(now)
        self._muted_until[chat] = now + self._cooldown
        return Verdict.NOTICE

    def _forget_forgiven(self, now: float) -> None:
        for chat in [c for c, until in self._muted_until.items() if now >= until]:
            del self._muted_until[chat]
        if len(self._muted_until) >= self._max_chats:
            self._muted_until.clear()
