"""Leases a process holds for as long as it runs: "I poll this bot", "I set its webhook",
"I run the scheduled jobs".

On PostgreSQL a lease is a session-level advisory lock on a connection of its own, kept open
until released: if the process dies, the connection closes and the lease is free again, with
no row to clean up. SQLite serves one process, so there every lease is granted.
"""

from __future__ import annotations

import contextlib
import hashlib

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import Database


def lease_key(name: str) -> int:
    """The advisory lock key of a lease name (a stable signed 64-bit number)."""
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


class ProcessLease:
    """One named lease; :meth:`acquire` never waits."""

    def __init__(self, database: Database, name: str) -> None:
        self._database = database
        self._key = lease_key(name)
        self._connection: AsyncConnection | None = None

    async def acquire(self) -> bool:
        """Take the lease if no other process holds it; True when this process holds it."""
        if self._database.dialect != "postgresql":
            return True
        if self._connection is not None:
            return True
        connection = await self._database.engine.connect()
        held = (
            await connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key})
        ).scalar_one()
        await connection.commit()
        if not held:
            await connection.close()
            return False
        self._connection = connection
        return True

    async def still_held(self) -> bool:
        """Whether the lease's connection is still up (a database restart ends it and frees
        the lock for others); a lost lease is let go, so :meth:`acquire` may try again."""
        if self._database.dialect != "postgresql":
            return True
        if self._connection is None:
            return False
        try:
            await self._connection.execute(text("SELECT 1"))
            await self._connection.commit()
        except (DBAPIError, OSError):
            connection, self._connection = self._connection, None
            await _discard(connection)
            return False
        return True

    async def release(self) -> None:
        """Give the lease back at once, for another process to take."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                # Unlocked before the connection goes back to the pool: a connection's advisory
                # lock outlives the pool's rollback, and would stay held by an idle connection.
                await connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": self._key}
                )
                await connection.commit()
                await connection.close()
            except (SQLAlchemyError, OSError):
                await _discard(connection)


async def _discard(connection: AsyncConnection) -> None:
    """Drop a connection whose server end is gone (and the lock with it), not back to the pool."""
    with contextlib.suppress(SQLAlchemyError, OSError):
        await connection.invalidate()
    with contextlib.suppress(SQLAlchemyError, OSError):
        await connection.close()
