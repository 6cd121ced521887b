"""Several workers started at the same instant on an empty PostgreSQL database.

Without the schema lock two of three crashed on ``CREATE TABLE alembic_version`` (or loading
the reference data) in every trial; with it one migrates and the others wait and find the
schema current.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from storage.database import Database
from storage.migrate import revisions
from storage.schema import schema_revision
from tests.conftest import PostgresServer, _admin

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def empty_postgres(postgres_server: PostgresServer) -> Iterator[str]:
    """A database of its own with nothing in it, dropped afterwards."""
    if postgres_server.url is None:
        pytest.skip(postgres_server.reason)
    base = postgres_server.url
    name = f"pikir_empty_{os.getpid()}_{secrets.token_hex(3)}"
    asyncio.run(_admin(base, f'CREATE DATABASE "{name}"'))
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ready(port: int) -> dict[str, str] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return dict(json.loads(response.read()))
    except OSError:
        return None


def test_three_workers_started_together_on_an_empty_database(
    empty_postgres: str, tmp_path: Path
) -> None:
    ports = [_free_port() for _ in range(3)]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PIKIR_")}
    environment |= {
        "PIKIR_DATABASE__URL": empty_postgres,
        "PIKIR_DATA_DIR": str(tmp_path / "var"),
        "PIKIR_SECURITY__SECRET_KEY": "a shared secret key for the three workers",
        "PIKIR_CLASSIFIER__ENABLED": "false",
        "PIKIR_SCHEDULER__ENABLED": "false",
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "bot.main", "serve"],
            env=environment | {"PIKIR_HTTP__PORT": str(port)},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for port in ports
    ]
    try:
        answers: dict[int, dict[str, str] | None] = dict.fromkeys(ports)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not all(answers.values()):
            for port in ports:
                answers[port] = answers[port] or _ready(port)
            if any(worker.poll() is not None for worker in workers):
                break
            time.sleep(0.3)
        crashed = [worker.returncode for worker in workers if worker.poll() is not None]
        assert crashed == [], "a worker exited during start-up"
        assert all(
            answer == {"status": "ready", "database": "ok", "schema": "ok"}
            for answer in answers.values()
        ), answers
    finally:
        errors = []
        for worker in workers:
            worker.terminate()
            errors.append(worker.communicate(timeout=30)[1])
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
