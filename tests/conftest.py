"""Shared fixtures: the same tests on SQLite and on the machine's PostgreSQL server.

PostgreSQL: a throwaway database is created for the run on ``PIKIR_TEST_POSTGRES_URL`` (default
the local server on 127.0.0.1:5432) and dropped afterwards. Without a server the PostgreSQL half
is skipped and the summary says so loudly, unless ``PIKIR_TEST_REQUIRE_POSTGRES=1`` (set by CI),
which turns the absence into a failure.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser
from sqlalchemy import delete
from sqlalchemy.engine import make_url

from storage.database import Database
from storage.migrate import upgrade
from storage.models import Base
from storage.reference_data import load_reference_data
from storage.uow import UnitOfWork
from tests.browser import launch_chromium

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@dataclass
class PostgresServer:
    """Where the throwaway test database lives, or why there is none."""

    url: str | None
    reason: str = ""


def _require_postgres() -> bool:
    return os.environ.get("PIKIR_TEST_REQUIRE_POSTGRES") == "1"


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    parsed = make_url(url)
    conn = await asyncpg.connect(
        host=parsed.host,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database or "postgres",
        timeout=5,
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Create a throwaway PostgreSQL database for the run (or explain why not)."""
    base = os.environ.get("PIKIR_TEST_POSTGRES_URL", DEFAULT_PG)
    name = f"pikir_test_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        asyncio.run(_admin(base, f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        where = make_url(base).render_as_string(hide_password=True)
        reason = f"PostgreSQL at {where} unreachable: {exc}"
        if _require_postgres():
            pytest.fail(reason)
        yield PostgresServer(None, reason)
        return
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    yield PostgresServer(url)
    asyncio.run(_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def migrated_urls(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str | None]:
    """One migrated database per backend for the whole run."""
    sqlite_path = tmp_path_factory.mktemp("sqlite") / "pikir.db"
    urls: dict[str, str | None] = {
        "sqlite": f"sqlite+aiosqlite:///{sqlite_path}",
        "postgresql": postgres_server.url,
    }

    async def prepare(url: str) -> None:
        database = Database(url)
        await upgrade(database)
        async with UnitOfWork(database.sessions) as uow:
            await load_reference_data(uow)
            await uow.commit()
        await database.dispose()

    for url in urls.values():
        if url:
            asyncio.run(prepare(url))
    return urls


def backend_url(
    request: pytest.FixtureRequest,
    urls: dict[str, str | None],
    backend: str,
    server: PostgresServer,
) -> str:
    """The URL of ``backend``, skipping (loudly) when PostgreSQL is absent."""
    url = urls[backend]
    if url is None:
        request.config.stash.setdefault(_SKIPPED_PG, []).append(request.node.nodeid)
        pytest.skip(f"PostgreSQL half skipped: {server.reason}")
    return url


_SKIPPED_PG = pytest.StashKey[list[str]]()
REFERENCE_TABLES = {"regions", "offices", "service_categories", "services"}


async def reset_database(database: Database) -> None:
    """Delete every row except the shipped reference data, which is loaded afresh."""
    async with UnitOfWork(database.sessions) as uow:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in REFERENCE_TABLES:
                await uow.session.execute(delete(table))
        for table in ("offices", "services"):
            await uow.session.execute(delete(Base.metadata.tables[table]))
        await load_reference_data(uow)
        await uow.commit()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this test run: ``sqlite`` or ``postgresql``."""
    return str(request.param)


@pytest.fixture
def database_url(
    request: pytest.FixtureRequest,
    backend: str,
    migrated_urls: dict[str, str | None],
    postgres_server: PostgresServer,
) -> str:
    """The URL of the migrated database of this test's backend."""
    return backend_url(request, migrated_urls, backend, postgres_server)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A migrated database with only reference data in it; emptied again after the test."""
    db = Database(database_url)
    await reset_database(db)
    yield db
    await reset_database(db)
    await db.dispose()


@pytest.fixture
def artifacts_dir() -> Path:
    """Where tests leave screenshots and other artifacts for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say clearly when the PostgreSQL half of the suite did not run."""
    skipped = terminalreporter.config.stash.get(_SKIPPED_PG, [])
    if skipped:
        terminalreporter.write_sep(
            "!", f"PostgreSQL half SKIPPED: {len(skipped)} test(s) ran on SQLite only", red=True
        )


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    """Debian's headless Chromium, for the real-browser tests."""
    async with launch_chromium() as browser:
        yield browser
