"""The shipped nginx site in front of two workers started by the shipped systemd unit, on a
fresh PostgreSQL database, with Telegram (the emulator) delivering webhook updates through it."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select
from yarl import URL

from storage.database import Database
from storage.models import AuditEntry
from storage.uow import UnitOfWork
from tests.deploy.harness import (
    Nginx,
    UnitWorker,
    free_port,
    json_environment,
    shared_settings,
    status,
    wait_for,
)
from tests.e2e.conftest import STAFF_CHAT, WEBHOOK_SECRET, Citizen, EmulatorClient
from tests.webchat.conftest import Browser

pytestmark = pytest.mark.e2e


@dataclass
class Site:
    """nginx on ``base`` in front of ``workers``; the bot's token at the emulator."""

    base: str
    nginx: Nginx
    workers: list[UnitWorker]
    token: str


@pytest.fixture
def site(empty_postgres: str, emulator: str, tmp_path: Path) -> Iterator[Site]:
    ports = [free_port() for _ in range(2)]
    nginx = Nginx(tmp_path / "nginx", free_port(), ports)
    base = f"http://127.0.0.1:{nginx.port}"
    token = f"{700000 + nginx.port}:DEPLOY{time.time_ns()}"
    environment_file = tmp_path / "pikir.env"
    environment_file.write_text(
        json_environment(
            {
                **shared_settings(empty_postgres, tmp_path / "shared", redis=False),
                "PIKIR_HTTP__PUBLIC_URL": base,
                "PIKIR_HTTP__TRUSTED_PROXIES": ["127.0.0.1"],
                "PIKIR_TELEGRAM__TOKEN": token,
                "PIKIR_TELEGRAM__API_URL": emulator,
                "PIKIR_TELEGRAM__MODE": "webhook",
                "PIKIR_TELEGRAM__WEBHOOK_URL": f"{base}/telegram/webhook",
                "PIKIR_TELEGRAM__WEBHOOK_SECRET": WEBHOOK_SECRET,
                "PIKIR_TELEGRAM__STAFF_CHAT_ID": STAFF_CHAT,
                "PIKIR_CLASSIFIER__ENABLED": "false",
                "PIKIR_SCHEDULER__ENABLED": "false",
            }
        )
    )
    workers = [UnitWorker(port, environment_file) for port in ports]
    for worker in workers:
        worker.start()
    try:
        wait_for(lambda: all(worker.ready() for worker in workers), 120)
        nginx.start()
        yield Site(base, nginx, workers, token)
    finally:
        nginx.stop()
        for worker in workers:
            if worker.worker is not None and worker.worker.running():
                worker.stop()
        # Shown by pytest when a test failed: what each worker logged.
        for worker in workers:
            print(f"worker {worker.port}:", *worker.log, sep="\n")


def test_the_proxy_serves_health_admin_and_keeps_metrics_internal(site: Site) -> None:
    assert status(f"{site.base}/healthz") == 200
    assert status(f"{site.base}/readyz") == 200
    assert status(f"{site.base}/admin/login") == 200
    assert status(f"{site.base}/metrics") == 403
    # Prometheus scrapes every worker on its own port instead.
    assert [status(f"http://127.0.0.1:{w.port}/metrics") for w in site.workers] == [200, 200]


async def test_webhook_updates_and_the_web_chat_go_through_the_proxy(
    site: Site, emulator: str
) -> None:
    # unsafe: the jar keeps the chat's cookie for an address like 127.0.0.1 too.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        client = EmulatorClient(session, emulator)
        # The webhook was set once, by one worker, to the proxy's address with the secret.
        webhook = await client.get("/_test/webhook", token=site.token)
        assert webhook["url"] == f"{site.base}/telegram/webhook"
        assert webhook["sets"] == 1
        # Without the secret header the worker behind the proxy refuses the call.
        async with session.post(f"{site.base}/telegram/webhook", json={"update_id": 1}) as r:
            assert r.status == 401

        # Updates delivered with the secret, through nginx, to either worker, are answered.
        citizens = [Citizen(client, site.token, 5_000_000 + n, "en") for n in range(6)]
        # All at once: each update has an id of its own, none is dropped as a repeat.
        await asyncio.gather(*(citizen.say("/start") for citizen in citizens))
        for citizen in citizens:
            assert (await citizen.messages())[-1]["reply_markup"]["inline_keyboard"]

        # The web chat's WebSocket is upgraded through the proxy.
        browser = Browser(session, URL(site.base), site.base)
        await browser.open()
        assert browser.labels()
        await browser.close()


async def test_a_worker_stopped_by_sigterm_exits_cleanly_and_the_other_serves(
    site: Site, emulator: str
) -> None:
    stopped, remaining = site.workers
    assert stopped.stop() == 0
    assert "Traceback" not in stopped.log[0]
    assert status(f"http://127.0.0.1:{stopped.port}/healthz") is None
    async with aiohttp.ClientSession() as session:
        client = EmulatorClient(session, emulator)
        citizens = [Citizen(client, site.token, 6_000_000 + n, "en") for n in range(4)]
        for citizen in citizens:
            await citizen.say("/start")
    assert status(f"{site.base}/readyz") == 200
    assert remaining.ready()


async def test_a_worker_killed_outright_is_skipped_and_nothing_is_answered_twice(
    site: Site, emulator: str
) -> None:
    killed, remaining = site.workers
    async with aiohttp.ClientSession() as session:
        client = EmulatorClient(session, emulator)
        first = Citizen(client, site.token, 7_000_000, "en")
        await first.say("/start")
        answers_per_start = len(await first.messages())
        assert killed.worker is not None
        killed.worker.kill()  # SIGKILL: no goodbye, its connections just go
        # nginx takes each update to the worker that is left (a refused connection is tried
        # on the next worker); every chat gets its answer exactly once.
        citizens = [Citizen(client, site.token, 7_000_001 + n, "en") for n in range(6)]
        for citizen in citizens:
            await citizen.say("/start")
        assert [len(await c.messages()) for c in citizens] == [answers_per_start] * 6
    assert remaining.ready()
    assert status(f"{site.base}/readyz") == 200


async def test_the_service_sees_the_clients_address_and_a_forged_one_is_ignored(
    site: Site, empty_postgres: str
) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(f"{site.base}/admin/login") as page:
            csrf = re.search(r'name="csrf" value="([^"]+)"', await page.text())
        assert csrf is not None
        form = {"login": "admin", "password": "not the password", "csrf": csrf.group(1)}
        forged = {"X-Forwarded-For": "203.0.113.9"}  # a client choosing its own address
        async with session.post(f"{site.base}/admin/login", data=form, headers=forged) as r:
            assert r.status == 401  # refused, and counted for the address nginx saw
    database = Database(empty_postgres)
    try:
        async with UnitOfWork(database.sessions) as uow:
            rows = await uow.session.execute(
                select(AuditEntry.ip).where(AuditEntry.action == "login.failed")
            )
            addresses = list(rows.scalars())
    finally:
        await database.dispose()
    # nginx's view of the client (loopback here), passed on and believed from nginx alone.
    assert addresses == ["127.0.0.1"]
