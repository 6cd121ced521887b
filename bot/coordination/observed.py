"""Chat locks that report how long each holder waited for its turn (for ``/metrics``)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Protocol

from bot.coordination.ports import ChatLocks


class LockObserver(Protocol):
    """Where lock waits are reported."""

    def lock_waited(self, scope: str, seconds: float) -> None:
        """One holder of a ``scope`` lock ("telegram", "web") waited ``seconds``."""
        ...


class ObservedLocks:
    """Wraps :class:`ChatLocks`, timing the wait before the block runs."""

    def __init__(self, inner: ChatLocks, scope: str, observer: LockObserver) -> None:
        self._inner = inner
        self._scope = scope
        self._observer = observer

    @contextlib.asynccontextmanager
    async def hold(self, chat: str, order: int | None = None) -> AsyncIterator[None]:
        """Hold ``chat`` as the inner locks do, reporting the wait."""
        started = time.perf_counter()
        async with self._inner.hold(chat, order):
            self._observer.lock_waited(self._scope, time.perf_counter() - started)
            yield
