"""The login lockout throttles the guesser, not the staff member (admin.lockout)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from admin.device import DEVICE_COOKIE
from storage.models import AuditEntry, LoginThrottle, OutboxMessage, StaffRole
from storage.uow import UnitOfWork
from tests.admin.conftest import PASSWORD, Panel, csrf_of

OFFICE = "198.51.100.7"  # a whole office behind one address
ELSEWHERE = "203.0.113.50"


async def attempt(client: Any, login: str, password: str, address: str = OFFICE) -> int:
    page = await client.get("/admin/login")
    response = await client.post(
        "/admin/login",
        data={"login": login, "password": password, "csrf": csrf_of(await page.text())},
        headers={"X-Forwarded-For": address},
        allow_redirects=False,
    )
    return response.status


async def entries(panel: Panel, action: str) -> list[AuditEntry]:
    async with UnitOfWork(panel.database.sessions) as uow:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        return list(await uow.session.scalars(query))


async def alerts(panel: Panel) -> list[OutboxMessage]:
    async with UnitOfWork(panel.database.sessions) as uow:
        query = select(OutboxMessage).where(OutboxMessage.kind == "staff_alert")
        return list(await uow.session.scalars(query))


async def test_delays_grow_for_one_login_at_one_address(panel: Panel) -> None:
    await panel.add_staff("aigerim", StaffRole.REVIEWER, ["astana"])
    client = await panel.client()
    for _ in range(panel.config.security.login_max_failures):
        assert await attempt(client, "aigerim", "guess") == 401
    # 30 s, then 60 s, 120 s, … after each further failure, at most 15 minutes.
    for delay in (30, 60, 120, 240, 480, 900, 900):
        panel.clock.advance(seconds=delay - 1)
        assert await attempt(client, "aigerim", PASSWORD) == 429
        panel.clock.advance(seconds=1)
        assert await attempt(client, "aigerim", "guess") == 401
    panel.clock.advance(seconds=900)
    assert await attempt(client, "aigerim", PASSWORD) == 303


async def test_the_same_login_elsewhere_is_not_locked(panel: Panel) -> None:
    await panel.add_staff("aigerim", StaffRole.REVIEWER, ["astana"])
    attacker, colleague = await panel.client(), await panel.client()
    for _ in range(panel.config.security.login_max_failures + 3):
        await attempt(attacker, "aigerim", "guess")
    assert await attempt(attacker, "aigerim", PASSWORD) == 429
    assert await attempt(colleague, "aigerim", PASSWORD, ELSEWHERE) == 303


async def test_the_account_locks_only_at_a_high_bar_and_not_for_a_known_browser(
    panel: Panel,
) -> None:
    await panel.add_admin_with_device()
    bar = panel.config.security.login_max_failures_per_account
    attacker = await panel.client()
    # A spread attack: a few guesses from each of many addresses, each below the pair's limit.
    for index in range(bar - 1):
        assert await attempt(attacker, "admin", "guess", f"192.0.2.{index // 3}") == 401
    assert await attempt(await panel.client(), "admin", PASSWORD, ELSEWHERE) == 303
    assert await attempt(attacker, "admin", "guess", "192.0.2.200") == 401  # the bar
    # Now locked for a new browser anywhere …
    assert await attempt(await panel.client(), "admin", PASSWORD, ELSEWHERE) == 429
    # … but not for the administrator's own browser, which logged in here before.
    assert await attempt(panel.admin_browser, "admin", PASSWORD, ELSEWHERE) == 303
    # A forged or another account's device cookie does not help.
    forger = await panel.client()
    forger.session.cookie_jar.update_cookies(
        {DEVICE_COOKIE: panel.admin_device.replace(":", ":x", 1)}, forger.make_url("/admin/")
    )
    assert await attempt(forger, "admin", PASSWORD, ELSEWHERE) == 429
    [account_lock] = [
        e for e in await entries(panel, "login.lockout") if e.after["scope"] == "account"
    ]
    assert account_lock.actor_login == "admin" and account_lock.after["failures"] == bar
    [alert] = [m for m in await alerts(panel) if "со всех адресов" in m.text]
    assert alert.address == panel.config.telegram.staff_chat_id and "admin" in alert.text


async def test_simultaneous_failures_each_count(panel: Panel) -> None:
    await panel.add_staff("aigerim", StaffRole.REVIEWER, ["astana"])
    clients = [await panel.client() for _ in range(4)]
    statuses = await asyncio.gather(*(attempt(c, "aigerim", "guess") for c in clients))
    assert statuses == [401] * 4
    async with UnitOfWork(panel.database.sessions) as uow:
        counts = sorted(row.failures for row in await uow.session.scalars(select(LoginThrottle)))
    assert counts == [4, 4]  # the login at this address, and the login everywhere
    assert await attempt(clients[0], "aigerim", "guess") == 401  # the fifth
    assert await attempt(clients[0], "aigerim", PASSWORD) == 429


async def test_every_lockout_is_audited_and_an_administrators_is_reported_once(
    panel: Panel,
) -> None:
    await panel.add_staff("admin", StaffRole.ADMIN)
    await panel.add_staff("aigerim", StaffRole.REVIEWER, ["astana"])
    client = await panel.client()
    for login in ("admin", "aigerim"):
        for _ in range(panel.config.security.login_max_failures):
            await attempt(client, login, "guess")
        panel.clock.advance(seconds=30)
        await attempt(client, login, "guess")  # a second, longer lock in the same run
    locks = await entries(panel, "login.lockout")
    assert [(e.actor_login, e.after["scope"]) for e in locks] == [
        ("admin", "pair"),
        ("admin", "pair"),
        ("aigerim", "pair"),
        ("aigerim", "pair"),
    ]
    assert all(e.ip == OFFICE for e in locks)
    [alert] = await alerts(panel)  # the administrator's first lock only; none for a reviewer
    assert alert.address == "-100555" and OFFICE in alert.text and "admin" in alert.text
