"""Logging in and out, changing one's password, choosing the panel language, the home page."""

from __future__ import annotations

import math
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp_session import get_session
from argon2 import PasswordHasher

from admin.access import STAFF_KEY, current_staff
from admin.config import PanelConfig
from admin.device import known_device, remember_device
from admin.i18n import LANGUAGES, N_
from admin.keys import CLOCK, CONFIG, DATABASE, HASHER
from admin.lockout import Attempt, Lock, LockoutPolicy, LoginGuard
from admin.params import choice, single, text_field
from admin.passwords import (
    MAX_PASSWORD_LENGTH,
    PasswordPolicyError,
    hash_password,
    verify_password,
)
from admin.policy import CASE_ROLES
from admin.rendering import flash, render, translator
from admin.sessions import end_session, safe_next, start_session
from storage.models import Channel, Language, StaffRole, StaffUser
from storage.uow import UnitOfWork

MAX_LOGIN_LENGTH = 64


def _home(request: web.Request) -> str:
    return str(request.app.router["home"].url_for())


def client_ip(request: web.Request) -> str:
    """The client's address as the server sees it (a proxy must pass the real one through)."""
    return request.remote or "unknown"


async def home(request: web.Request) -> web.StreamResponse:
    """Where a staff member starts: the queue, or the reports for the analyst."""
    staff = current_staff(request)
    if staff.role in CASE_ROLES:
        raise web.HTTPSeeOther(location=str(request.app.router["queue"].url_for()))
    return await render(request, "home.html")


async def login_page(request: web.Request) -> web.StreamResponse:
    """The login form."""
    session = await get_session(request)
    _ = translator(request)
    notice = None
    if session.pop("expired", False):
        notice = _("Your session has ended. Please log in again.")
    return await render(
        request,
        "login.html",
        {"next": safe_next(single(request.query, "next", 2000), ""), "notice": notice},
    )


async def login(request: web.Request) -> web.StreamResponse:
    """Check the login and password, with lockout; the same answer whether the login exists."""
    form = await request.post()
    _ = translator(request)
    login_name = (single(form, "login", 1000) or "")[:MAX_LOGIN_LENGTH]
    password = text_field(form, "password", MAX_PASSWORD_LENGTH + 1)
    next_url = safe_next(single(form, "next", 2000), _home(request))
    config = request.app[CONFIG]
    hasher = request.app[HASHER]
    now = request.app[CLOCK]()
    ip = client_ip(request)
    policy = LockoutPolicy(
        max_failures=config.security.login_max_failures,
        first_delay=config.security.login_first_delay,
        longest_delay=config.security.login_lockout,
        max_failures_per_account=config.security.login_max_failures_per_account,
    )
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        account = await uow.staff.by_login(login_name) if login_name else None
        device = known_device(request, config, account.id) if account is not None else None
        attempt = Attempt(login_name, ip, device)
        guard = LoginGuard(uow, policy, now)
        locked_until = await guard.locked_until(attempt, account)
        if locked_until is not None:
            uow.audit.record("login.locked", actor_login=login_name, ip=ip)
            await uow.commit()
            minutes = max(1, math.ceil((locked_until - now).total_seconds() / 60))
            message = _("Too many failed attempts. Try again in %(minutes)d minutes.") % {
                "minutes": minutes
            }
            return await _login_failed(request, message, login_name, next_url, 429)
        valid = _verify(hasher, account.password_hash if account else None, password)
        if account is None or not account.active or not valid:
            locks = await guard.failed(attempt, account)
            uow.audit.record("login.failed", actor=account, actor_login=login_name, ip=ip)
            for lock in locks:
                _record_lock(uow, config, account, login_name, ip, lock)
            await uow.commit()
            message = _("Wrong login or password.")
            return await _login_failed(request, message, login_name, next_url, 401)
        await guard.succeeded(attempt, account)
        if hasher.check_needs_rehash(account.password_hash):
            account.password_hash = hasher.hash(password)
        uow.audit.record("login", actor=account, ip=ip)
        await uow.commit()
    await start_session(request, account)
    response = web.Response(status=303, headers={"Location": next_url})
    if device is None:
        remember_device(response, config, account.id)
    return response


def _record_lock(
    uow: UnitOfWork,
    config: PanelConfig,
    account: StaffUser | None,
    login_name: str,
    ip: str,
    lock: Lock,
) -> None:
    """Every lockout in the audit log; an administrator's also in the staff chat, once a run."""
    until = lock.until.isoformat(timespec="seconds")
    uow.audit.record(
        "login.lockout",
        actor=account,
        actor_login=login_name,
        after={"scope": lock.scope, "until": until, "failures": lock.failures},
        ip=ip,
    )
    first_of_run = lock.scope == "account" or lock.failures == config.security.login_max_failures
    if account is None or account.role != StaffRole.ADMIN or not first_of_run:
        return
    if not config.telegram.staff_chat_id:
        return
    local = lock.until.astimezone(ZoneInfo(config.reports.timezone)).strftime("%Y-%m-%d %H:%M")
    where = "со всех адресов" if lock.scope == "account" else f"с адреса {ip}"
    uow.outbox.enqueue(
        channel=Channel.TELEGRAM,
        address=config.telegram.staff_chat_id,
        kind="staff_alert",
        text=(
            f"Панель: вход администратора {account.login} заблокирован {where} до {local} "
            f"после {lock.failures} неудачных попыток."
        ),
    )


def _verify(hasher: PasswordHasher, stored: str | None, password: str) -> bool:
    if stored is None:
        # Spend the same time as for a real account so timing does not tell logins apart.
        hasher.hash(password[:MAX_PASSWORD_LENGTH] or "x")
        return False
    return verify_password(hasher, stored, password)


async def _login_failed(
    request: web.Request, message: str, login_name: str, next_url: str, status: int
) -> web.Response:
    return await render(
        request,
        "login.html",
        {"error": message, "login": login_name, "next": next_url, "notice": None},
        status=status,
    )


async def logout(request: web.Request) -> web.StreamResponse:
    """End this staff member's sessions (on every device) and return to the login page."""
    staff = current_staff(request)
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        account = await uow.staff.by_id(staff.id)
        if account is not None:
            account.session_epoch += 1
        uow.audit.record("logout", actor=staff, ip=client_ip(request))
        await uow.commit()
    await end_session(request)
    raise web.HTTPSeeOther(location=str(request.app.router["login"].url_for()))


async def password_page(request: web.Request) -> web.StreamResponse:
    """The password change form (forced at first login)."""
    current_staff(request)
    return await render(request, "password.html")


async def change_password(request: web.Request) -> web.StreamResponse:
    """Change one's own password after checking the current one."""
    staff = current_staff(request)
    form = await request.post()
    _ = translator(request)
    current = text_field(form, "current", MAX_PASSWORD_LENGTH + 1)
    new = text_field(form, "new", MAX_PASSWORD_LENGTH + 1)
    repeat = text_field(form, "repeat", MAX_PASSWORD_LENGTH + 1)
    hasher = request.app[HASHER]
    error = None
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        account = await uow.staff.by_id(staff.id)
        assert account is not None
        if not verify_password(hasher, account.password_hash, current):
            error = _("The current password is wrong.")
        elif new != repeat:
            error = _("The new passwords do not match.")
        elif new == current:
            error = _("The new password must differ from the current one.")
        else:
            try:
                account.password_hash = hash_password(hasher, new)
            except PasswordPolicyError:
                error = _("The new password must have 10 to 256 characters.")
        if error is not None:
            return await render(request, "password.html", {"error": error}, status=400)
        account.must_change_password = False
        account.session_epoch += 1
        uow.audit.record("password.change", actor=staff, ip=client_ip(request))
        await uow.commit()
    await start_session(request, account)
    await flash(request, _("Your password has been changed."))
    raise web.HTTPSeeOther(location=_home(request))


async def switch_language(request: web.Request) -> web.StreamResponse:
    """Switch the panel language (remembered on the account when logged in)."""
    form = await request.post()
    language = choice(form, "lang", LANGUAGES)
    if language is None:
        raise web.HTTPBadRequest(text=N_("A parameter has a value that is not allowed."))
    session = await get_session(request)
    session["lang"] = language
    staff = request.get(STAFF_KEY)
    if staff is not None:
        async with UnitOfWork(request.app[DATABASE].sessions) as uow:
            account = await uow.staff.by_id(staff.id)
            if account is not None:
                account.language = Language(language)
                await uow.commit()
    default = _home(request) if staff is not None else str(request.app.router["login"].url_for())
    raise web.HTTPSeeOther(location=safe_next(single(form, "next", 2000), default))
