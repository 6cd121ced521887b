"""Running Alembic migrations from the application and the tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from storage.database import Database

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration pointing at this package's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.attributes["url"] = url
    return config


def revisions() -> list[str]:
    """All revision ids from the first to the head."""
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


async def upgrade(database: Database, revision: str = "head") -> None:
    """Migrate the database up to ``revision``."""
    await _run(database, lambda cfg: command.upgrade(cfg, revision))


async def downgrade(database: Database, revision: str) -> None:
    """Migrate the database down to ``revision``."""
    await _run(database, lambda cfg: command.downgrade(cfg, revision))


async def _run(database: Database, action: object) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        action(config)  # type: ignore[operator]

    async with database.engine.connect() as conn:
        sqlite = database.dialect == "sqlite"
        if sqlite:
            # Batch migrations copy a table and drop the old one; with foreign keys enforced,
            # the drop would cascade into the rows that refer to it (Alembic's advice for
            # SQLite: switch enforcement off meanwhile; the pragma only works outside a
            # transaction).
            await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await conn.commit()
        try:
            async with conn.begin():
                await conn.run_sync(run)
        finally:
            if sqlite:
                await conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                await conn.commit()
