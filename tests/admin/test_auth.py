"""Logging in and staying logged in: passwords, lockout, sessions, CSRF, security headers."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from admin.sessions import COOKIE_NAME
from bot.settings import HttpSettings
from storage.models import AuditEntry, StaffRole, StaffUser
from storage.uow import UnitOfWork
from tests.admin.conftest import PASSWORD, Panel, csrf_of


async def _try_login(client, login: str, password: str):
    page = await client.get("/admin/login")
    return await client.post(
        "/admin/login",
        data={"login": login, "password": password, "csrf": csrf_of(await page.text())},
        allow_redirects=False,
    )


async def _audit(panel: Panel, action: str) -> list[AuditEntry]:
    async with UnitOfWork(panel.database.sessions) as uow:
        rows = await uow.session.scalars(select(AuditEntry).where(AuditEntry.action == action))
        return list(rows)


async def test_pages_need_a_login(panel: Panel) -> None:
    client = await panel.client()
    response = await client.get("/admin/queue?status=new", allow_redirects=False)
    assert response.status == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/admin/login"
    assert parse_qs(location.query) == {"next": ["/admin/queue?status=new"]}
    response = await client.post("/admin/cases/1/note", data={"note": "x"}, allow_redirects=False)
    assert response.status == 303


async def test_login_goes_where_the_staff_member_wanted_and_is_audited(panel: Panel) -> None:
    await panel.add_staff("aigerim", StaffRole.REVIEWER, ["astana"])
    client = await panel.client()
    page = await client.get("/admin/login?next=%2Fadmin%2Fqueue%3Fstatus%3Dnew")
    response = await client.post(
        "/admin/login",
        data={
            "login": "AIGERIM ",
            "password": PASSWORD,
            "csrf": csrf_of(await page.text()),
            "next": "/admin/queue?status=new",
        },
        allow_redirects=False,
    )
    assert response.status == 303
    assert response.headers["Location"] == "/admin/queue?status=new"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/admin" in cookie
    assert (await client.get("/admin/queue")).status == 200
    [entry] = await _audit(panel, "login")
    assert entry.actor_login == "aigerim" and entry.ip == "127.0.0.1"


async def test_login_never_redirects_outside_the_panel(panel: Panel) -> None:
    await panel.add_staff("aigerim", StaffRole.REVIEWER, ["astana"])
    for target in ("https://evil.example/", "//evil.example/admin/", "/chat/x"):
        client = await panel.client()
        page = await client.get("/admin/login")
        response = await client.post(
            "/admin/login",
            data={
                "login": "aigerim",
                "password": PASSWORD,
                "csrf": csrf_of(await page.text()),
                "next": target,
            },
            allow_redirects=False,
        )
        assert response.headers["Location"] == "/admin/", target


async def test_wrong_password_and_unknown_login_get_the_same_answer(panel: Panel) -> None:
    await panel.add_staff("aigerim", StaffRole.REVIEWER, ["astana"])
    client = await panel.client()
    wrong = await _try_login(client, "aigerim", "not the password")
    unknown = await _try_login(client, "nobody-here", "not the password")
    assert wrong.status == unknown.status == 401
    wrong_text, unknown_text = await wrong.text(), await unknown.text()
    assert "Wrong login or password." in wrong_text and "Wrong login or password." in unknown_text
    assert len(await _audit(panel, "login.failed")) == 2


async def test_account_lockout_after_repeated_failures(panel: Panel) -> None:
    await panel.add_staff("aigerim", StaffRole.REVIEWER, ["astana"])
    await panel.add_staff("bolat", StaffRole.REVIEWER, ["astana"])
    client = await panel.client()
    for _ in range(panel.config.security.login_max_failures):
        assert (await _try_login(client, "aigerim", "guess")).status == 401
    # Locked here: even the right password is refused, and it says so.
    locked = await _try_login(client, "aigerim", PASSWORD)
    assert locked.status == 429
    assert "Too many failed attempts" in await locked.text()
    # Another account from the same address still works.
    assert (await _try_login(client, "bolat", PASSWORD)).status == 303
    panel.clock.advance(seconds=31)  # the first delay is over
    assert (await _try_login(client, "aigerim", PASSWORD)).status == 303


async def test_unknown_logins_lock_exactly_like_real_ones(panel: Panel) -> None:
    await panel.add_staff("aigerim", StaffRole.REVIEWER, ["astana"])
    client = await panel.client()
    answers = {}
    for login in ("aigerim", "ghost"):
        statuses = [
            (await _try_login(client, login, "guess")).status
            for _ in range(panel.config.security.login_max_failures + 1)
        ]
        answers[login] = statuses
    assert answers["aigerim"] == answers["ghost"] == [401] * 5 + [429]
    async with UnitOfWork(panel.database.sessions) as uow:
        keys = [row.key for row in await uow.session.scalars(select_throttle())]
    # The unknown login is counted under a hash, never in clear.
    assert keys and not any("ghost" in key or "aigerim" in key for key in keys)


def select_throttle():
    from storage.models import LoginThrottle

    return select(LoginThrottle)


async def test_an_office_behind_one_address_is_not_locked_by_one_guesser(panel: Panel) -> None:
    await panel.add_staff("aigerim", StaffRole.REVIEWER, ["astana"])
    client = await panel.client()
    # Guesses at many logins from the office's one address lock nothing but those guesses.
    for index in range(3 * panel.config.security.login_max_failures_per_account):
        assert (await _try_login(client, f"guess{index}", "guess")).status == 401
    assert (await _try_login(client, "aigerim", PASSWORD)).status == 303


async def test_disabled_account_cannot_log_in(panel: Panel) -> None:
    user = await panel.add_staff("aigerim", StaffRole.REVIEWER, ["astana"])
    async with UnitOfWork(panel.database.sessions) as uow:
        stored = await uow.staff.by_id(user.id)
        assert stored is not None
        stored.active = False
        await uow.commit()
    client = await panel.client()
    response = await _try_login(client, "aigerim", PASSWORD)
    assert response.status == 401


async def test_idle_timeout_ends_the_session(panel: Panel) -> None:
    await panel.add_staff("aigerim", StaffRole.REVIEWER, ["astana"])
    client = await panel.login("aigerim")
    panel.clock.advance(minutes=29)
    assert (await client.get("/admin/queue", allow_redirects=False)).status == 200
    panel.clock.advance(minutes=29)  # used a minute ago: the idle timer restarted
    assert (await client.get("/admin/queue", allow_redirects=False)).status == 200
    panel.clock.advance(minutes=31)
    response = await client.get("/admin/queue", allow_redirects=False)
    assert response.status == 303
    page = await client.get("/admin/login")
    assert "Your session has ended" in await page.text()


@pytest.mark.panel_config(security={"session_idle_minutes": 1})
async def test_a_one_minute_idle_timeout_is_exact_to_the_second(panel: Panel) -> None:
    await panel.add_staff("aigerim", StaffRole.REVIEWER, ["astana"])
    client = await panel.login("aigerim")
    for _ in range(10):  # clicking every 59 seconds for ten minutes: never logged out
        panel.clock.advance(seconds=59)
        assert (await client.get("/admin/queue", allow_redirects=False)).status == 200
    panel.clock.advance(seconds=60)  # exactly the timeout: still in
    assert (await client.get("/admin/queue", allow_redirects=False)).status == 200
    panel.clock.advance(seconds=61)  # one second past it: out
    assert (await client.get("/admin/queue", allow_redirects=False)).status == 303


async def test_absolute_timeout_ends_even_a_busy_session(panel: Panel) -> None:
    await panel.add_staff("aigerim", StaffRole.REVIEWER, ["astana"])
    client = await panel.login("aigerim")
    for _ in range(25):  # 12.5 hours of clicking every half hour minus a minute
        panel.clock.advance(minutes=29)
        response = await client.get("/admin/queue", allow_redirects=False)
    assert response.status == 303


async def test_logout_ends_the_session_even_for_a_copied_cookie(panel: Panel) -> None:
    await panel.add_staff("aigerim", StaffRole.REVIEWER, ["astana"])
    client = await panel.login("aigerim")
    stolen = client.session.cookie_jar.filter_cookies(client.make_url("/admin/"))[COOKIE_NAME]
    page = await client.get("/admin/queue")
    response = await client.post(
        "/admin/logout", data={"csrf": csrf_of(await page.text())}, allow_redirects=False
    )
    assert response.status == 303
    assert (await client.get("/admin/queue", allow_redirects=False)).status == 303
    thief = await panel.client()
    thief.session.cookie_jar.update_cookies({COOKIE_NAME: stolen.value}, client.make_url("/admin/"))
    assert (await thief.get("/admin/queue", allow_redirects=False)).status == 303
    assert len(await _audit(panel, "logout")) == 1


async def test_a_forged_cookie_is_ignored(panel: Panel) -> None:
    client = await panel.client()
    client.session.cookie_jar.update_cookies(
        {COOKIE_NAME: "gAAAAABnot-a-real-token"}, client.make_url("/admin/")
    )
    assert (await client.get("/admin/queue", allow_redirects=False)).status == 303


async def test_first_login_forces_a_password_change(panel: Panel) -> None:
    await panel.add_staff("admin", StaffRole.ADMIN, must_change_password=True)
    client = await panel.login("admin")
    response = await client.get("/admin/queue", allow_redirects=False)
    assert response.headers["Location"] == "/admin/password"
    page = await client.get("/admin/password")
    token = csrf_of(await page.text())
    short = await client.post(
        "/admin/password", data={"csrf": token, "current": PASSWORD, "new": "x", "repeat": "x"}
    )
    assert short.status == 400
    new = "a much better passphrase"
    changed = await client.post(
        "/admin/password",
        data={"csrf": token, "current": PASSWORD, "new": new, "repeat": new},
        allow_redirects=False,
    )
    assert changed.status == 303
    assert (await client.get("/admin/queue")).status == 200
    async with UnitOfWork(panel.database.sessions) as uow:
        user = await uow.staff.by_login("admin")
        assert user is not None and not user.must_change_password
    assert (await _try_login(await panel.client(), "admin", new)).status == 303
    assert len(await _audit(panel, "password.change")) == 1


async def test_state_changes_without_the_csrf_token_are_refused(panel: Panel) -> None:
    case = await panel.add_case()
    client = await panel.as_role(StaffRole.ADMIN)
    for token in (None, "forged-token"):
        data = {"note": "sneaky", "version": "1"}
        if token:
            data["csrf"] = token
        response = await client.post(f"/admin/cases/{case.id}/note", data=data)
        assert response.status == 403
        assert "The form has expired" in await response.text()
    # A token from another browser's session does not work either.
    other = await panel.client()
    foreign_token = csrf_of(await (await other.get("/admin/login")).text())
    response = await client.post(
        f"/admin/cases/{case.id}/note", data={"note": "sneaky", "csrf": foreign_token}
    )
    assert response.status == 403
    # The login form is protected too.
    bare = await panel.client()
    response = await bare.post("/admin/login", data={"login": "a", "password": "b"})
    assert response.status == 403
    async with UnitOfWork(panel.database.sessions) as uow:
        stored = await uow.cases.get(case.id)
    assert stored is not None and stored.events == []


async def test_security_headers_on_every_kind_of_response(panel: Panel) -> None:
    client = await panel.as_role(StaffRole.ADMIN)
    for path in ("/admin/queue", "/admin/login", "/admin/no-such-page", "/admin/cases/999999"):
        response = await client.get(path, allow_redirects=False)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
    html = await (await client.get("/admin/queue")).text()
    assert "<script" not in html and "style=" not in html


async def test_session_cookie_is_secure_when_served_over_https(panel_config) -> None:
    from dataclasses import replace

    from admin.sessions import cookie_storage

    assert cookie_storage(
        replace(panel_config, http=HttpSettings(public_url="https://pikir.gov.kz"))
    ).cookie_params["secure"]
    assert not cookie_storage(panel_config).cookie_params["secure"]


async def test_disabling_an_account_ends_its_open_sessions(panel: Panel) -> None:
    user = await panel.add_staff("aigerim", StaffRole.REVIEWER, ["astana"])
    client = await panel.login("aigerim")
    admin = await panel.as_role(StaffRole.ADMIN)
    page = await admin.get(f"/admin/users/{user.id}")
    response = await admin.post(
        f"/admin/users/{user.id}",
        data={"csrf": csrf_of(await page.text()), "role": "reviewer", "regions": "astana"},
        allow_redirects=False,
    )
    assert response.status == 303
    assert (await client.get("/admin/queue", allow_redirects=False)).status == 303
    async with UnitOfWork(panel.database.sessions) as uow:
        stored = await uow.session.get(StaffUser, user.id)
        assert stored is not None and stored.active is False
