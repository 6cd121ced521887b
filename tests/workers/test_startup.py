"""Several workers started at the same instant on an empty PostgreSQL database.

Without the schema lock two of three crashed on ``CREATE TABLE alembic_version`` (or loading
the reference data) in every trial; with it one migrates and the others wait and find the
schema current.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from storage.database import Database
from storage.migrate import revisions
from storage.schema import schema_revision
from tests.deploy.harness import free_port, start_workers, stop_all


def test_three_workers_started_together_on_an_empty_database(
    empty_postgres: str, tmp_path: Path
) -> None:
    settings = {
        "PIKIR_DATABASE__URL": empty_postgres,
        "PIKIR_DATA_DIR": str(tmp_path / "var"),
        "PIKIR_SECURITY__SECRET_KEY": "a shared secret key for the three workers",
        "PIKIR_CLASSIFIER__ENABLED": "false",
        "PIKIR_SCHEDULER__ENABLED": "false",
    }
    # All three at the same instant; a crash while starting fails here with its output.
    workers = start_workers([free_port() for _ in range(3)], settings, tmp_path / "logs")
    try:
        answers = [worker.readiness() for worker in workers]
        assert all(
            answer == {"status": "ready", "database": "ok", "schema": "ok"} for answer in answers
        ), answers
    finally:
        stop_all(workers)
    errors = [worker.output() for worker in workers]
    assert all("Traceback" not in error for error in errors), errors
    # Exactly one of them announced the first admin's one-time password.
    assert sum(error.count("First admin account created") for error in errors) == 1

    async def revision() -> str | None:
        database = Database(empty_postgres)
        try:
            return await schema_revision(database)
        finally:
            await database.dispose()

    assert asyncio.run(revision()) == revisions()[-1]
