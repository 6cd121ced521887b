"""Telling an outage from a bug, with the errors the real drivers raise."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.coordination.setup import open_redis
from bot.outage import outage_of
from storage.database import Database
from tests.deploy.harness import free_port


async def _error_of_query(url: str) -> BaseException:
    database = Database(url)
    try:
        async with database.sessions() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:
        return exc
    finally:
        await database.dispose()
    raise AssertionError("the query did not fail")


async def test_a_database_nobody_listens_for_is_an_outage() -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/postgres"
    assert outage_of(await _error_of_query(url)) == "database"
    database = Database(url)
    try:
        with pytest.raises(Exception) as ping:
            await database.ping()
    finally:
        await database.dispose()
    assert outage_of(ping.value) == "database"


async def test_a_redis_nobody_listens_for_is_an_outage() -> None:
    client = open_redis(f"redis://127.0.0.1:{free_port()}/0")
    try:
        with pytest.raises(Exception) as failed:
            await client.get("key")
    finally:
        await client.aclose()
    assert outage_of(failed.value) == "redis"


def test_bugs_and_bad_data_are_not_outages() -> None:
    assert outage_of(ValueError("bad")) is None
    assert outage_of(KeyError("missing")) is None
    refused_row = IntegrityError("INSERT", {}, Exception("duplicate key"))
    assert outage_of(refused_row) is None
    try:
        raise RuntimeError("wrapped") from ValueError("cause")
    except RuntimeError as exc:
        assert outage_of(exc) is None
