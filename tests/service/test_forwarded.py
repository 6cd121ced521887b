"""Behind a reverse proxy: the client's own address, believed only from a trusted proxy."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Coroutine
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher

from bot.forwarded import client_address
from bot.main import build_app
from bot.settings import Settings
from storage.database import Database
from storage.models import StaffRole
from storage.uow import UnitOfWork

PROXIES = [ip_network("10.0.0.0/8"), ip_network("127.0.0.1/32")]
PASSWORD = "a long enough password 2026"


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # not a proxy: the header is ignored
        ("10.1.2.3", None, "10.1.2.3"),
        ("10.1.2.3", "198.51.100.1", "198.51.100.1"),
        ("10.1.2.3", "192.0.2.66, 198.51.100.1", "198.51.100.1"),  # the left part is forgeable
        ("10.1.2.3", "198.51.100.1, 10.9.9.9", "198.51.100.1"),  # two proxies
        ("10.1.2.3", "10.7.7.7, 10.9.9.9", "10.7.7.7"),  # everyone is trusted: left-most
        ("10.1.2.3", "not-an-address", "10.1.2.3"),
        ("10.1.2.3", "2001:db8::1", "2001:db8::1"),
        (None, "198.51.100.1", None),
    ],
)
def test_client_address(peer: str | None, forwarded: str | None, expected: str | None) -> None:
    assert client_address(peer, forwarded, PROXIES) == expected


Post = Callable[[str, str, str], Coroutine[Any, Any, int]]


Service = Callable[..., Coroutine[Any, Any, TestClient[Any, Any]]]


@pytest.fixture
async def service(database: Database, database_url: str, tmp_path: Path) -> AsyncIterator[Service]:
    """Starts the whole service with the given trusted proxies (and other settings)."""
    async with UnitOfWork(database.sessions) as uow:
        uow.staff.add(
            login="aigerim",
            password_hash=PasswordHasher(time_cost=1, memory_cost=1024).hash(PASSWORD),
            role=StaffRole.REVIEWER,
            regions=["astana"],
            display_name="Айгерим",
        )
        await uow.commit()
    clients: list[TestClient[Any, Any]] = []

    async def start(trusted: list[str], **settings: Any) -> TestClient[Any, Any]:
        config = Settings(
            database={"url": database_url},
            http={"trusted_proxies": trusted},
            scheduler={"enabled": False},
            classifier={"enabled": False},
            data_dir=tmp_path / "var",
            **settings,
        )
        client: TestClient[Any, Any] = TestClient(
            TestServer(build_app(config, secret_key=b"proxy" * 7))
        )
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


@pytest.fixture
def login_as(service: Service) -> Callable[[list[str]], Coroutine[Any, Any, Post]]:
    """Starts the service with the given trusted proxies; gives a login attempt function."""

    async def start(trusted: list[str]) -> Post:
        client = await service(trusted)

        async def attempt(address: str, login: str, password: str) -> int:
            headers = {"X-Forwarded-For": address}
            page = await client.get("/admin/login", headers=headers)
            match = re.search(r'name="csrf" value="([^"]+)"', await page.text())
            assert match is not None
            response = await client.post(
                "/admin/login",
                data={"login": login, "password": password, "csrf": match.group(1)},
                headers=headers,
                allow_redirects=False,
            )
            return response.status

        return attempt

    return start


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_locked_address_behind_the_proxy_does_not_lock_out_the_others(
    login_as: Callable[[list[str]], Coroutine[Any, Any, Post]],
) -> None:
    attempt = await login_as(["127.0.0.1"])  # the test client connects from 127.0.0.1
    failures = Settings().security.login_max_failures
    for _ in range(failures):
        assert await attempt("198.51.100.1", "aigerim", "wrong") == 401
    assert await attempt("198.51.100.1", "aigerim", PASSWORD) == 429
    # The same member of staff at another address, through the same proxy, logs in.
    assert await attempt("203.0.113.9", "aigerim", PASSWORD) == 303


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_without_a_trusted_proxy_a_forged_header_changes_nothing(
    login_as: Callable[[list[str]], Coroutine[Any, Any, Post]],
) -> None:
    attempt = await login_as([])
    failures = Settings().security.login_max_failures
    for index in range(failures):
        assert await attempt(f"198.51.100.{index + 1}", "aigerim", "wrong") == 401
    # Every attempt came from this one address, whatever the header said.
    assert await attempt("203.0.113.9", "aigerim", PASSWORD) == 429


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_the_web_chat_limits_each_address_behind_the_proxy(service: Service) -> None:
    client = await service(["127.0.0.1"], webchat={"new_chats_per_minute": 1, "new_chats_burst": 1})

    async def new_chat(address: str) -> int:
        client.session.cookie_jar.clear()  # a new browser each time
        response = await client.get("/chat", headers={"X-Forwarded-For": address})
        return response.status

    assert await new_chat("198.51.100.1") == 200
    assert await new_chat("198.51.100.1") == 429
    assert await new_chat("203.0.113.9") == 200  # another phone behind the same proxy
