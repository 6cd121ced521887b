"""A short-lived cache of the queue's status counts.

Counting 200,000 cases per status on every page view would cost more than the rest of the page
together, and the numbers only need to be roughly current: they are kept for a few seconds per
(scope, filter), and a staff member's own change clears them at once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime, timedelta

from storage.repositories.cases import QueueCounts

MAX_ENTRIES = 1000


class CountsCache:
    """Status counts by key, each kept for ``ttl``; the least recently used go first."""

    def __init__(self, ttl: timedelta, clock: Callable[[], datetime]) -> None:
        self.ttl = ttl
        self.clock = clock
        self._entries: OrderedDict[Hashable, tuple[datetime, QueueCounts]] = OrderedDict()

    async def get(
        self, key: Hashable, compute: Callable[[], Awaitable[QueueCounts]]
    ) -> QueueCounts:
        """The cached counts for ``key``, or fresh ones from ``compute``."""
        now = self.clock()
        cached = self._entries.get(key)
        if cached is not None and now - cached[0] < self.ttl:
            self._entries.move_to_end(key)
            return cached[1]
        counts = await compute()
        self._entries[key] = (now, counts)
        self._entries.move_to_end(key)
        while len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)
        return counts

    def clear(self) -> None:
        """Forget everything (after a change made through this process)."""
        self._entries.clear()
