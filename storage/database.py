"""The database handle: one async engine and its session factory per process.

Created by the composition root and closed on shutdown; nothing here is module-level state.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
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

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": True}
        if self.dialect == "sqlite":
            # One writer at a time on SQLite: wait for the lock instead of failing at once.
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs["pool_size"] = pool_size
            kwargs["max_overflow"] = pool_size
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
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

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLite's own lower() folds ASCII only; office search must fold Cyrillic and Kazakh too.
    dbapi_connection.create_function("lower", 1, _casefold, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _casefold(value: object) -> object:
    return value.lower() if isinstance(value, str) else value
