"""A short-lived cache of the queue's status counts.

Counting 200,000 cases per status on every page view would cost more than the rest of the page
together, and the numbers only need to be roughly current: they are kept for a few seconds per
(scope, filter), and a staff member's own change clears them at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime, timedelta

from cachetools import TTLCache

from storage.repositories.cases import QueueCounts

MAX_ENTRIES = 1000


class CountsCache:
    """Status counts by key, each kept for ``ttl``; the least recently used go first."""

    def __init__(self, ttl: timedelta, clock: Callable[[], datetime]) -> None:
        self.ttl = ttl
        self.clock = clock
        self._entries: TTLCache[Hashable, QueueCounts] = TTLCache(
            maxsize=MAX_ENTRIES,
            ttl=ttl.total_seconds(),
            timer=lambda: self.clock().timestamp(),
        )

    async def get(
        self, key: Hashable, compute: Callable[[], Awaitable[QueueCounts]]
    ) -> QueueCounts:
        """The cached counts for ``key``, or fresh ones from ``compute``."""
        cached = self._entries.get(key)
        if cached is not None:
            return cached
        counts = await compute()
        self._entries[key] = counts
        return counts

    def clear(self) -> None:
        """Forget everything (after a change made through this process)."""
        self._entries.clear()
