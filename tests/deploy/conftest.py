"""Fixtures for the deployment tests: a fresh PostgreSQL database and the Bot API emulator."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import PostgresServer, _admin

# The emulator process of the end-to-end tests, shared by the whole run.
from tests.e2e.conftest import emulator  # noqa: F401


@contextlib.contextmanager
def fresh_database(postgres_server: PostgresServer) -> Iterator[str]:
    """A PostgreSQL database of its own with nothing in it, dropped afterwards."""
    if postgres_server.url is None:
        pytest.skip(postgres_server.reason)
    base = postgres_server.url
    name = f"pikir_deploy_{os.getpid()}_{secrets.token_hex(3)}"
    asyncio.run(_admin(base, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def empty_postgres(postgres_server: PostgresServer) -> Iterator[str]:
    """A PostgreSQL database of its own for the test."""
    with fresh_database(postgres_server) as url:
        yield url
