"""Staff accounts, for administrators: create, change role and regions, disable, reset password.

A new account and a reset password get a one-time password, shown once on the page and never
stored in clear; its owner must change it at the next login. Any change to an account's access
ends its open sessions.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from admin.access import current_staff, require_roles
from admin.accounts import AccountProblem, create_account, normalise_login
from admin.i18n import LANGUAGES, N_
from admin.keys import DATABASE, HASHER
from admin.params import choice, flag, path_id, text_field
from admin.passwords import hash_password, one_time_password
from admin.policy import ADMIN_ROLES
from admin.rendering import flash, render, request_language, translator
from admin.views.auth import client_ip
from admin.views.labels import ROLE_LABELS
from storage.models import Language, Region, StaffRole, StaffUser
from storage.uow import UnitOfWork


def _snapshot(user: StaffUser) -> dict[str, Any]:
    return {
        "role": str(user.role),
        "regions": user.region_codes,
        "active": user.active,
        "display_name": user.display_name,
        "language": str(user.language),
    }


@require_roles(*ADMIN_ROLES)
async def users_page(request: web.Request) -> web.StreamResponse:
    """Every staff account."""
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        users = await uow.staff.all()
        regions = await uow.reference.pick_list(Region)
    language = request_language(request)
    return await render(
        request,
        "users.html",
        {
            "users": users,
            "role_labels": ROLE_LABELS,
            "region_names": {region.code: region.name(language) for region in regions},
        },
    )


@require_roles(*ADMIN_ROLES)
async def new_user_page(request: web.Request) -> web.StreamResponse:
    """The form for a new account."""
    return await _user_form(request, None, {})


@require_roles(*ADMIN_ROLES)
async def edit_user_page(request: web.Request) -> web.StreamResponse:
    """The form for an existing account."""
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        user = await uow.staff.by_id(path_id(request))
    if user is None:
        raise web.HTTPNotFound
    return await _user_form(request, user, {})


async def _user_form(
    request: web.Request,
    user: StaffUser | None,
    values: dict[str, Any],
    *,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        regions = await uow.reference.regions()
    return await render(
        request,
        "user_form.html",
        {
            "user": user,
            "values": values,
            "regions": regions,
            "roles": [role.value for role in StaffRole],
            "role_labels": ROLE_LABELS,
            "panel_languages": LANGUAGES,
            "error": error,
        },
        status=status,
    )


async def _read_form(request: web.Request) -> dict[str, Any]:
    form = await request.post()
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        known_regions = [region.code for region in await uow.reference.regions()]
    regions = form.getall("regions", [])
    if len(regions) > len(known_regions) or any(r not in known_regions for r in regions):
        raise web.HTTPBadRequest(text=N_("A parameter has a value that is not allowed."))
    return {
        "login": normalise_login(text_field(form, "login", 64)),
        "display_name": text_field(form, "display_name", 200),
        "role": choice(form, "role", [role.value for role in StaffRole]),
        "language": choice(form, "language", LANGUAGES) or "ru",
        "regions": sorted(set(regions)),
        "active": flag(form, "active"),
    }


def _problem(values: dict[str, Any]) -> str | None:
    if values["role"] is None:
        return N_("Choose a role.")
    if values["role"] == StaffRole.REVIEWER.value and not values["regions"]:
        return N_("A reviewer needs at least one region.")
    return None


@require_roles(*ADMIN_ROLES)
async def create_user(request: web.Request) -> web.StreamResponse:
    """Create an account and show its one-time password once."""
    staff = current_staff(request)
    values = await _read_form(request)
    problem = _problem(values)
    _ = translator(request)
    password = one_time_password()
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        if problem is None:
            try:
                user = await create_account(
                    uow,
                    request.app[HASHER],
                    login=values["login"],
                    password=password,
                    role=StaffRole(values["role"]),
                    regions=values["regions"],
                    display_name=values["display_name"],
                    must_change_password=True,
                )
            except AccountProblem as exc:
                problem = str(exc)
        if problem is not None:
            return await _user_form(request, None, values, error=_(problem), status=400)
        user.language = Language(values["language"])
        await uow.feedback.flush()
        uow.audit.record(
            "user.create",
            actor=staff,
            target_type="staff",
            target_id=user.login,
            after={"role": values["role"], "regions": values["regions"]},
            ip=client_ip(request),
        )
        await uow.commit()
    return await render(request, "user_password.html", {"user": user, "password": password})


@require_roles(*ADMIN_ROLES)
async def update_user(request: web.Request) -> web.StreamResponse:
    """Change an account's name, role, regions, language or whether it is active."""
    staff = current_staff(request)
    values = await _read_form(request)
    _ = translator(request)
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        user = await uow.staff.by_id(path_id(request))
        if user is None:
            raise web.HTTPNotFound
        problem = _problem(values)
        if user.id == staff.id and (not values["active"] or values["role"] != StaffRole.ADMIN):
            problem = N_("You cannot disable your own account or take away your own admin role.")
        if problem is not None:
            return await _user_form(request, user, values, error=_(problem), status=400)
        before = _snapshot(user)
        user.display_name = values["display_name"] or user.login
        user.role = StaffRole(values["role"])
        user.language = Language(values["language"])
        user.active = values["active"]
        uow.staff.set_regions(user, values["regions"] if user.role == StaffRole.REVIEWER else [])
        after = {
            **before,
            **{
                "role": values["role"],
                "regions": values["regions"] if user.role == StaffRole.REVIEWER else [],
                "active": values["active"],
                "display_name": user.display_name,
                "language": values["language"],
            },
        }
        if any(before[key] != after[key] for key in ("role", "regions", "active")):
            user.session_epoch += 1
        uow.audit.record(
            "user.update",
            actor=staff,
            target_type="staff",
            target_id=user.login,
            before=before,
            after=after,
            ip=client_ip(request),
        )
        await uow.commit()
    await flash(request, _("The account has been saved."))
    raise web.HTTPSeeOther(location="/admin/users")


@require_roles(*ADMIN_ROLES)
async def reset_password(request: web.Request) -> web.StreamResponse:
    """Give an account a new one-time password (its sessions end, any lockout is lifted)."""
    staff = current_staff(request)
    password = one_time_password()
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        user = await uow.staff.by_id(path_id(request))
        if user is None:
            raise web.HTTPNotFound
        user.password_hash = hash_password(request.app[HASHER], password)
        user.must_change_password = True
        user.session_epoch += 1
        user.failed_logins = 0
        user.locked_until = None
        uow.audit.record(
            "user.reset_password",
            actor=staff,
            target_type="staff",
            target_id=user.login,
            ip=client_ip(request),
        )
        await uow.commit()
    return await render(request, "user_password.html", {"user": user, "password": password})
