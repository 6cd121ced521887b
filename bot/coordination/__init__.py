"""Coordination between workers: per-chat locks and rate limits, in process or in Redis.

The ports (:mod:`bot.coordination.ports`) are what the adapters use; :mod:`.memory` keeps
today's single-process behaviour, :mod:`.redis_backend` shares the same state between every
worker that points at one Redis (``PIKIR_REDIS__URL``).
"""

from bot.coordination.ports import (
    ChatLocks,
    Coordination,
    FloodLimiter,
    KeyedBuckets,
    LimitSettings,
    SendSlots,
    SocketCounter,
)

__all__ = [
    "ChatLocks",
    "Coordination",
    "FloodLimiter",
    "KeyedBuckets",
    "LimitSettings",
    "SendSlots",
    "SocketCounter",
]
