"""One process at a time brings the schema and the reference data up to date.

Several workers started together on one PostgreSQL database would otherwise all run the same
migrations (two ``CREATE TABLE alembic_version`` race, and one crashes) and load the same
reference rows. A session-level advisory lock serialises them: the first migrates, the others
wait, then find the schema current and have nothing to do. SQLite serves one process only, so
there the lock is a no-op.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage.database import Database

# A constant key for the advisory lock: the bytes of "pikir-sc" read as a signed bigint.
SCHEMA_LOCK_KEY = int.from_bytes(b"pikir-sc", "big", signed=True)


@asynccontextmanager
async def schema_lock(database: Database) -> AsyncIterator[None]:
    """Hold the database-wide schema lock for the block (wait for it if another holds it)."""
    if database.dialect != "postgresql":
        yield
        return
    # Its own connection, held for the whole block: the migration runs on other connections
    # (or in a child process), and an advisory lock belongs to the session that took it.
    async with database.engine.connect() as connection:
        await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
        await connection.commit()
        try:
            yield
        finally:
            await connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK_KEY}
            )
            await connection.commit()


async def schema_revision(database: Database) -> str | None:
    """The revision the database's schema is at (None before the first migration)."""
    async with database.engine.connect() as connection:
        try:
            return (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar_one_or_none()
        except DBAPIError:
            return None
