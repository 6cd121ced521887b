"""``pikir staff add``: staff accounts from the operator's console."""

from __future__ import annotations

import re
import sys

import click
import structlog

from admin.passwords import PasswordPolicyError, hash_password, make_hasher
from bot.cli.common import fail, with_database
from bot.settings import Settings
from storage.database import Database
from storage.models import StaffRole
from storage.uow import UnitOfWork

log = structlog.get_logger("pikir")


@click.group()
def staff() -> None:
    """Manage staff accounts."""


@staff.command("add")
@click.option("--login", required=True, help="Login name (letters, digits, dots, dashes).")
@click.option("--role", required=True, type=click.Choice([r.value for r in StaffRole]))
@click.option("--region", "regions", multiple=True, help="Region code; repeat for several.")
@click.option("--name", "display_name", default="", help="Display name.")
def staff_add(login: str, role: str, regions: tuple[str, ...], display_name: str) -> None:
    """Create a staff account; the password is read from standard input."""
    password = sys.stdin.readline().rstrip("\r\n")
    if not valid_login(login):
        fail("login must be 2–64 letters, digits, dots, dashes or underscores", code=2)

    @with_database
    async def body(settings: Settings, database: Database) -> None:
        async with UnitOfWork(database.sessions) as uow:
            known = {r.code for r in await uow.reference.regions()}
            unknown = [code for code in regions if code not in known]
            if unknown:
                fail(f"unknown region(s): {', '.join(unknown)}", code=2)
            if await uow.staff.by_login(login):
                fail(f"a staff account {login!r} already exists", code=2)
            try:
                password_hash = hash_password(make_hasher(), password)
            except PasswordPolicyError as exc:
                fail(str(exc), code=2)
                return
            user = uow.staff.add(
                login=login,
                password_hash=password_hash,
                role=StaffRole(role),
                regions=list(regions),
                display_name=display_name,
            )
            uow.audit.record(
                "user.create",
                actor_login="cli",
                target_type="staff",
                target_id=user.login,
                after={"role": role, "regions": list(regions)},
            )
            await uow.commit()
        click.echo(f"staff account {login!r} ({role}) created")

    body()


def valid_login(login: str) -> bool:
    return re.fullmatch(r"[A-Za-z0-9._-]{2,64}", login) is not None
