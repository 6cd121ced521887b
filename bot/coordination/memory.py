"""Coordination inside one process: today's behaviour, and the default without Redis."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator

from bot.conversation import FloodGuard, TokenBuckets, Verdict
from bot.coordination.ports import Coordination, LimitSettings
from bot.outbox.limiter import LocalSendSlots, RateLimiter


class MemoryChatLocks:
    """An ``asyncio.Lock`` per chat, in arrival order; forgotten when nobody waits."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}

    @contextlib.asynccontextmanager
    async def hold(self, chat: str, order: int | None = None) -> AsyncIterator[None]:
        """Hold ``chat`` for the block (one process delivers in order, so ``order`` is moot)."""
        lock = self._locks.setdefault(chat, asyncio.Lock())
        self._waiting[chat] = self._waiting.get(chat, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._waiting[chat] -= 1
            if not self._waiting[chat]:  # nobody else queued: forget the chat
                del self._waiting[chat]
                del self._locks[chat]


class MemoryFlood:
    """:class:`FloodGuard` behind the async port."""

    def __init__(self, guard: FloodGuard) -> None:
        self._guard = guard

    async def check(self, chat: str) -> Verdict:
        """Take one token for ``chat``."""
        return self._guard.check(chat)


class MemoryBuckets:
    """:class:`TokenBuckets` behind the async port."""

    def __init__(self, buckets: TokenBuckets) -> None:
        self._buckets = buckets

    async def take(self, key: str) -> bool:
        """Take one token for ``key``."""
        return self._buckets.take(key)


class MemorySockets:
    """Open sockets per address in this process."""

    def __init__(self, max_per_address: int) -> None:
        self._max = max_per_address
        self._open: Counter[str] = Counter()

    async def open(self, address: str) -> bool:
        """Count a socket of ``address`` unless it has too many."""
        if self._open[address] >= self._max:
            return False
        self._open[address] += 1
        return True

    async def close(self, address: str) -> None:
        """Uncount a socket of ``address``."""
        self._open[address] -= 1
        if self._open[address] <= 0:
            del self._open[address]


def memory_coordination(limits: LimitSettings) -> Coordination:
    """Locks and limits of this process alone."""
    return Coordination(
        name="memory",
        chat_locks=MemoryChatLocks(),
        web_locks=MemoryChatLocks(),
        telegram_flood=MemoryFlood(
            FloodGuard(
                limits.telegram.flood_per_second,
                limits.telegram.flood_burst,
                cooldown=limits.flood_cooldown,
            )
        ),
        web_flood=MemoryFlood(
            FloodGuard(
                limits.webchat.flood_per_second,
                limits.webchat.flood_burst,
                cooldown=limits.flood_cooldown,
            )
        ),
        web_addresses=MemoryBuckets(
            TokenBuckets(limits.webchat.ip_per_second, limits.webchat.ip_burst)
        ),
        web_new_chats=MemoryBuckets(
            TokenBuckets(limits.new_chats_per_second, limits.webchat.new_chats_burst)
        ),
        web_sockets=MemorySockets(limits.webchat.max_sockets_per_ip),
        send_slots=LocalSendSlots(
            RateLimiter(limits.telegram.rate_per_second, limits.telegram.per_chat_interval)
        ),
    )
