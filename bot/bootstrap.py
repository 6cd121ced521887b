"""Getting a database and a data directory ready for the service."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

from argon2 import PasswordHasher

from admin.passwords import hash_password, one_time_password
from storage.database import Database
from storage.models import StaffRole
from storage.reference_data import load_reference_data
from storage.schema import schema_lock
from storage.uow import UnitOfWork


async def _migrate_here(database: Database) -> None:
    from storage.migrate import upgrade  # Alembic: imported only when it is needed

    await upgrade(database)


def ensure_secret_key(data_dir: Path, configured: str | None) -> bytes:
    """The process's secret key: the configured one, or one generated once and kept on disk.

    It keys respondents' pseudonyms and signs sessions, so it must survive restarts.
    """
    if configured:
        return configured.encode()
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()


async def has_feedback(database: Database) -> bool:
    """True once any feedback is stored (used to offer demo data on an empty install)."""
    async with UnitOfWork(database.sessions) as uow:
        return await uow.feedback.any_stored()


async def prepare_database(
    database: Database,
    hasher: PasswordHasher,
    *,
    migrate: Callable[[Database], Awaitable[object]] | None = None,
) -> str | None:
    """Migrate, load the reference data and create the first admin if there is no staff yet.

    ``migrate`` brings the schema up to date (default: Alembic in this process). Returns the
    first admin's one-time password when one was created, else None.
    """
    await database.ping()
    # Several workers may start together: one migrates and loads, the others wait and then
    # find nothing to do (and the first admin already there).
    async with schema_lock(database):
        await (migrate or _migrate_here)(database)
        async with UnitOfWork(database.sessions) as uow:
            await load_reference_data(uow)
            password: str | None = None
            if await uow.staff.count() == 0:
                password = one_time_password()
                uow.staff.add(
                    login="admin",
                    password_hash=hash_password(hasher, password),
                    role=StaffRole.ADMIN,
                    display_name="Administrator",
                    must_change_password=True,
                )
            await uow.commit()
    return password
