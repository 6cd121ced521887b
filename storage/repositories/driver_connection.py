"""The driver connection under a session, for statements that skip SQLAlchemy's per-call work.

A statement sent straight to asyncpg or aiosqlite runs in the session's transaction, which
SQLAlchemy commits or rolls back as usual; only the statement's compilation, caching and result
handling are skipped, which on the hottest paths cost more CPU than the database's own work.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


async def driver_connection(session: AsyncSession) -> tuple[Any, bool]:
    """The session's driver connection inside its transaction, and whether it is PostgreSQL."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        # SQLAlchemy's asyncpg adapter sends BEGIN lazily, before its own first statement;
        # start it now so the driver's statements join the transaction it commits.
        adapted: Any = raw.dbapi_connection
        if not adapted._started:
            await adapted._start_transaction()
    return raw.driver_connection, postgres
