"""Migrations stairway: every revision goes up, down and up again, on both databases; and the
service's migration in a child process."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import inspect, text

from storage.database import Database
from storage.migrate import downgrade, revisions, upgrade
from storage.migrate_process import MigrationFailed, upgrade_in_child
from storage.models import Base
from tests.conftest import PostgresServer, _admin


@pytest.fixture
async def empty_database(
    backend: str, tmp_path, postgres_server: PostgresServer, request: pytest.FixtureRequest
):
    """A brand-new empty database of the backend under test."""
    if backend == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'stairway.db'}")
        yield db
        await db.dispose()
        return
    if postgres_server.url is None:
        pytest.skip(f"PostgreSQL half skipped: {postgres_server.reason}")
    from sqlalchemy.engine import make_url

    url = make_url(postgres_server.url)
    name = f"{url.database}_stairway"
    await _admin(postgres_server.url, f'CREATE DATABASE "{name}"')
    db = Database(url.set(database=name).render_as_string(hide_password=False))
    yield db
    await db.dispose()
    await _admin(postgres_server.url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_stairway(empty_database: Database) -> None:
    revs = revisions()
    assert revs, "no migrations found"
    previous = "base"
    for revision in revs:
        await upgrade(empty_database, revision)
        await downgrade(empty_database, previous)
        await upgrade(empty_database, revision)
        previous = revision
    tables = await _tables(empty_database) - {"alembic_version"}
    assert tables == set(Base.metadata.tables)


async def test_models_match_migrations(empty_database: Database) -> None:
    """The head schema has every column the models declare (no missing migration)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    await upgrade(empty_database)

    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return compare_metadata(context, Base.metadata)

    async with empty_database.engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []


async def test_the_service_migrates_in_a_child_process(empty_database: Database) -> None:
    await upgrade_in_child(empty_database)
    assert await _tables(empty_database) >= set(Base.metadata.tables)
    async with empty_database.engine.connect() as conn:
        head = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
    assert head == revisions()[-1]


async def test_a_failed_child_migration_says_where_but_not_the_password() -> None:
    database = Database("postgresql+asyncpg://pikir:s3cret@127.0.0.1:1/nowhere")
    with pytest.raises(MigrationFailed) as failed:
        await upgrade_in_child(database)
    message = str(failed.value)
    assert "127.0.0.1:1/nowhere" in message and "s3cret" not in message
    assert "Connect" in message  # the child's reason, not just "it failed"
    await database.dispose()


def test_the_service_does_not_load_alembic() -> None:
    script = "import sys, bot.main; print(sorted({'alembic', 'mako'} & set(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]"
