"""Building a process's coordination: in memory, or on one Redis client."""

from __future__ import annotations

import dataclasses

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

from bot.coordination.memory import memory_coordination
from bot.coordination.observed import LockObserver, ObservedLocks
from bot.coordination.ports import Coordination, LimitSettings
from bot.coordination.redis_backend import ORDERING_WINDOW, redis_coordination

MAX_CONNECTIONS = 32
"""Connections one worker keeps to Redis at most; a command beyond them waits for a free one."""


def open_redis(url: str) -> Redis:
    """A client for ``url`` (connections are made on first use; close it with ``aclose``).

    Short timeouts: with Redis gone an update fails fast and is retried, rather than hang. The
    pool is bounded: a burst of updates reuses a few connections instead of opening one per
    command in flight, hundreds at once, whose handshakes then outlast the connect timeout.
    """
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=2.0,
        socket_timeout=2.0,
        socket_connect_timeout=2.0,
        health_check_interval=30,
    )
    return Redis.from_pool(pool)


def build_coordination(
    limits: LimitSettings,
    client: Redis | None,
    prefix: str,
    observer: LockObserver | None = None,
    ordering_window: float = ORDERING_WINDOW,
) -> Coordination:
    """Shared in Redis when there is a ``client``, else this process's alone."""
    plain = (
        memory_coordination(limits)
        if client is None
        else redis_coordination(client, prefix, limits, ordering_window)
    )
    if observer is None:
        return plain
    return dataclasses.replace(
        plain,
        chat_locks=ObservedLocks(plain.chat_locks, "telegram", observer),
        web_locks=ObservedLocks(plain.web_locks, "web", observer),
    )


async def redis_problem(client: Redis) -> str | None:
    """A readiness probe: None when Redis answers, else a short reason."""
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        return f"unreachable ({type(exc).__name__})"
    return None
