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
from dataclasses import dataclass


class Verdict(enum.Enum):
    """What to do with an event."""

    ALLOW = "allow"
    NOTICE = "notice"  # drop it, and tell the citizen once to slow down
    SILENT = "silent"  # drop it without a word


@dataclass
class _Bucket:
    tokens: float
    updated: float
    muted_until: float = 0.0


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
        self._rate = rate
        self._burst = float(burst)
        self._cooldown = cooldown
        self._clock = clock
        self._max_chats = max_chats
        self._buckets: dict[str, _Bucket] = {}

    def check(self, chat: str) -> Verdict:
        """Take one token for ``chat``; the verdict says whether the event may go on."""
        now = self._clock()
        bucket = self._buckets.get(chat)
        if bucket is None:
            if len(self._buckets) >= self._max_chats:
                self._forget_idle(now)
            bucket = self._buckets[chat] = _Bucket(self._burst, now)
        if now < bucket.muted_until:
            bucket.muted_until = now + self._cooldown
            return Verdict.SILENT
        if bucket.muted_until:  # quiet long enough: forgiven, with a full allowance
            bucket.muted_until, bucket.tokens = 0.0, self._burst
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return Verdict.ALLOW
        bucket.muted_until = now + self._cooldown
        return Verdict.NOTICE

    def _forget_idle(self, now: float) -> None:
        # A bucket that has refilled completely carries no information; drop those first.
        full_after = self._burst / self._rate
        idle = [
            chat
            for chat, b in self._buckets.items()
            if now - b.updated >= full_after and now >= b.muted_until
        ]
        for chat in idle:
            del self._buckets[chat]
        if len(self._buckets) >= self._max_chats:
            self._buckets.clear()
