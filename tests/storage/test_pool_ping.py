"""A pooled connection is pinged before use only after it sat idle; a dead idle one is replaced."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage.database import Database


@asynccontextmanager
async def _pool(url: str, **options: Any) -> AsyncIterator[Database]:
    database = Database(url, **options)
    try:
        yield database
    finally:
        await database.dispose()


async def _pooled_backend_pid(database: Database) -> int:
    """Run one statement so the pool holds exactly one connection; its server process id."""
    async with database.engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(database: Database, pid: int) -> None:
    """Kill a server process from another connection, as a database restart would."""
    async with _pool(database.url) as killer, killer.engine.connect() as conn:
        await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_dead_idle_connection_is_replaced_without_an_error(database_url: str) -> None:
    async with _pool(database_url, pool_size=1, ping_after_idle=0.0) as database:
        dead = await _pooled_backend_pid(database)
        await _terminate(database, dead)
        assert await _pooled_backend_pid(database) != dead


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_recently_used_connection_is_not_pinged(database_url: str) -> None:
    # The flip side of the saved round trips: a connection killed right after use is only
    # found dead by the next statement, which fails once; the pool then reconnects.
    async with _pool(database_url, pool_size=1, ping_after_idle=3600.0) as database:
        dead = await _pooled_backend_pid(database)
        await _terminate(database, dead)
        with pytest.raises(DBAPIError):
            await _pooled_backend_pid(database)
        assert await _pooled_backend_pid(database) != dead
