"""``pikir staff add``: staff accounts from the operator's console."""

from __future__ import annotations

import sys

import click
import structlog

from admin.accounts import AccountProblem, create_account
from admin.passwords import make_hasher
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

    @with_database
    async def body(settings: Settings, database: Database) -> None:
        async with UnitOfWork(database.sessions) as uow:
            try:
                user = await create_account(
                    uow,
                    make_hasher(),
                    login=login,
                    password=password,
                    role=StaffRole(role),
                    regions=regions,
                    display_name=display_name,
                )
            except AccountProblem as exc:
                fail(str(exc), code=2)
                return
            uow.audit.record(
                "user.create",
                actor_login="cli",
                target_type="staff",
                target_id=user.login,
                after={"role": role, "regions": list(regions)},
            )
            await uow.commit()
        click.echo(f"staff account {user.login!r} ({role}) created")

    body()
