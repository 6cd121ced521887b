"""A real Redis (``PIKIR_TEST_REDIS_URL``, default the local server) with a key prefix of
its own per test, removed afterwards."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from bot.coordination.setup import open_redis

REDIS_URL = os.environ.get("PIKIR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    """A key prefix no other test uses; its keys are deleted after the test."""
    name = f"pikir-test:{secrets.token_hex(4)}:"
    yield name
    client = open_redis(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{name}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
async def redis_clients() -> AsyncIterator[Callable[[], Redis]]:
    """Makes clients of the test Redis, one per simulated worker; closes them afterwards."""
    clients: list[Redis] = []

    def make() -> Redis:
        client = open_redis(REDIS_URL)
        clients.append(client)
        return client

    probe = make()
    try:
        await probe.ping()
    except Exception as exc:  # a missing server is a failure, never a skip
        pytest.fail(f"Redis at {REDIS_URL} unreachable: {exc}")
    yield make
    for client in clients:
        await client.aclose()
