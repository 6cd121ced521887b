"""The database handle: one async engine and its session factory per process.

Created by the composition root and closed on shutdown; nothing here is module-level state.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)


class DatabaseUnavailable(RuntimeError):
    """The database could not be reached; the message says where and why, without secrets."""


class Database:
    """An async engine plus a session factory for one database URL."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = 10,
        ping_after_idle: float = 10.0,
    ) -> None:
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "sqlite":
            # One writer at a time on SQLite: wait for the lock instead of failing at once.
            kwargs["connect_args"] = {"timeout": 30}
            # Reset by _sqlite_rollback_if_open below instead of a rollback on every return.
            kwargs["pool_reset_on_return"] = None
        else:
            kwargs["pool_size"] = pool_size
            kwargs["max_overflow"] = pool_size
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "savepoint", _sqlite_begin_before_savepoint)
            event.listen(self.engine.sync_engine.pool, "reset", _sqlite_rollback_if_open)
        _ping_idle_connections(self.engine, ping_after_idle)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden, fit for logs and error messages."""
        return make_url(self.url).render_as_string(hide_password=True)

    async def ping(self) -> None:
        """Run ``SELECT 1``; raise :class:`DatabaseUnavailable` if the database does not answer."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # any driver error means "not reachable" to the caller
            raise DatabaseUnavailable(
                f"database {self.safe_url} is not reachable: {type(exc).__name__}: {exc}"
            ) from exc

    def connections_in_use(self) -> int:
        """Connections checked out of the pool now (0 for a pool that does not count them)."""
        checked_out = getattr(self.engine.pool, "checkedout", None)
        return int(checked_out()) if callable(checked_out) else 0

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def _ping_idle_connections(engine: AsyncEngine, idle_seconds: float) -> None:
    """Ping a pooled connection on check-out only when it sat idle for ``idle_seconds``.

    ``pool_pre_ping`` pings on every check-out, and on asyncpg a ping is three round trips
    (``BEGIN``, ``;``, ``ROLLBACK``): a quarter of a busy event's round trips. A connection
    handed back moments ago is almost surely alive; one idle for a while may have been cut by
    a database restart or a firewall, and a dead one is swapped for a fresh one here. When the
    database restarts under load, the events in flight fail once and the pool reconnects.
    """
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "connect")
    @event.listens_for(pool, "checkin")
    def _mark_used(_dbapi_connection: Any, record: Any) -> None:
        record.info["pikir_used_at"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("pikir_used_at", 0.0) < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # any driver error: the connection is not usable
            raise exc.DisconnectionError(f"stale pooled connection: {error}") from error


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLite's own lower() folds ASCII only; office search must fold Cyrillic and Kazakh too.
    dbapi_connection.create_function("lower", 1, _casefold, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_before_savepoint(connection: Any, _name: str) -> None:
    """Open the real transaction before a savepoint, so that the whole unit of work is one.

    The sqlite3 module starts a transaction only before the first write. A ``SAVEPOINT``
    issued before any write starts a transaction of its own, which its ``RELEASE`` then
    commits: a unit of work whose first write is in a savepoint (a first conversation, a new
    respondent) would keep that row even when the rest is rolled back.
    """
    if not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN")


def _sqlite_rollback_if_open(dbapi_connection: Any, _record: Any, reset_state: Any) -> None:
    """Roll back a connection handed back to the pool only if a transaction is still open.

    The pool's own reset rolls back on every return, even after a commit; on aiosqlite that
    is one more hand-over to the connection's thread for each unit of work, for nothing.
    """
    if reset_state.asyncio_safe and dbapi_connection.driver_connection.in_transaction:
        dbapi_connection.rollback()


def _casefold(value: object) -> object:
    return value.lower() if isinstance(value, str) else value
