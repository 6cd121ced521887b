"""Shared helpers for the benchmarks: throwaway databases on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.database import Database
from storage.migrate import upgrade
from storage.reference_data import load_reference_data
from storage.uow import UnitOfWork

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


async def run_on_server(url: str, statement: str) -> None:
    """Run one statement (CREATE/DROP DATABASE) on the server of ``url``, outside a transaction."""
    import asyncpg

    parsed = make_url(url)
    conn = await asyncpg.connect(
        host=parsed.host,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database or "postgres",
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@asynccontextmanager
async def throwaway_database(backend: str, pool_size: int = 20) -> AsyncIterator[Database]:
    """A migrated database with reference data, dropped afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            database = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
            await _prepare(database)
            try:
                yield database
            finally:
                await database.dispose()
        return
    base = os.environ.get("PIKIR_BENCH_POSTGRES_URL", DEFAULT_PG)
    name = f"pikir_bench_{secrets.token_hex(4)}"
    await run_on_server(base, f'CREATE DATABASE "{name}"')
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    database = Database(url, pool_size=pool_size)
    try:
        await _prepare(database)
        yield database
    finally:
        await database.dispose()
        await run_on_server(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _prepare(database: Database) -> None:
    await upgrade(database)
    async with UnitOfWork(database.sessions) as uow:
        await load_reference_data(uow)
        await uow.commit()
