"""One rule for new staff accounts, whichever front end creates them (panel or command line)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from admin.accounts import AccountProblem, create_account
from storage.database import Database
from storage.models import StaffRole
from storage.uow import UnitOfWork

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "long enough password"


async def _create(database: Database, login: str, role: StaffRole, regions: list[str]) -> str:
    async with UnitOfWork(database.sessions) as uow:
        user = await create_account(
            uow, FAST, login=login, password=PASSWORD, role=role, regions=regions
        )
        await uow.commit()
        return user.login


async def test_login_stored_in_lower_case_and_unique_whatever_its_case(database: Database) -> None:
    assert await _create(database, " Aigerim ", StaffRole.ANALYST, []) == "aigerim"
    with pytest.raises(AccountProblem, match="This login is taken"):
        await _create(database, "AIGERIM", StaffRole.ADMIN, [])


@pytest.mark.parametrize(
    ("login", "role", "regions", "problem"),
    [
        ("a", StaffRole.ANALYST, [], "A login has 2 to 64"),
        ("aigerim zh", StaffRole.ANALYST, [], "A login has 2 to 64"),
        ("dana", StaffRole.REVIEWER, [], "A reviewer needs at least one region"),
        ("dana", StaffRole.REVIEWER, ["astana", "mars"], "unknown region.*mars"),
    ],
)
async def test_refused_accounts_say_why_and_add_nothing(
    database: Database, login: str, role: StaffRole, regions: list[str], problem: str
) -> None:
    with pytest.raises(AccountProblem, match=problem):
        await _create(database, login, role, regions)
    async with UnitOfWork(database.sessions) as uow:
        assert await uow.staff.by_login(login) is None
