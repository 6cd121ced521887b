"""Telling an outage of a backing service (the database, Redis) from a bug.

An outage passes: the caller reports it in one line and lets the work be retried (Telegram
redelivers a refused update, the outbox tries its round again). A bug keeps its traceback.
"""

from __future__ import annotations

import asyncpg
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import exc as sa_exc

from storage.database import DatabaseUnavailable

# Raised by asyncpg while the server is away, starting up or shutting down.
_DATABASE_AWAY = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.InterfaceError,
    DatabaseUnavailable,
    sa_exc.DisconnectionError,
)


def outage_of(error: BaseException) -> str | None:
    """``"database"`` or ``"redis"`` when ``error`` means that service could not be reached
    (``"network"`` for a bare socket error), else None (a bug, bad data: worth its traceback)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, RedisConnectionError | RedisTimeoutError):
            return "redis"
        if isinstance(current, _DATABASE_AWAY):
            return "database"
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return "database"
        if isinstance(current, sa_exc.InterfaceError | sa_exc.OperationalError):
            return "database"
        if isinstance(current, ConnectionError | TimeoutError):  # refused, reset: the socket
            return _raised_by(current)
        nested = getattr(current, "orig", None)
        current = nested if isinstance(nested, BaseException) else current.__cause__
    return None


def _raised_by(error: BaseException) -> str:
    """Whose socket failed, by the packages its traceback went through (the drivers let a
    refused connection out as the bare ``OSError``)."""
    packages = set()
    frame = error.__traceback__
    while frame is not None:
        packages.add(str(frame.tb_frame.f_globals.get("__name__", "")).partition(".")[0])
        frame = frame.tb_next
    if packages & {"asyncpg", "sqlalchemy", "storage"}:
        return "database"
    if "redis" in packages:
        return "redis"
    return "network"
