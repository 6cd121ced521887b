"""Creating a staff account: the one rule for a login, its role and regions, used by the panel's
user form and by ``pikir staff add``.

A login is stored in lower case, so ``Aigerim`` and ``aigerim`` are one account whichever way it
was created. Problems are English messages marked for translation (``N_``): the panel shows them
in its language, the command line as they are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from argon2 import PasswordHasher

from admin.i18n import N_
from admin.passwords import PasswordPolicyError, hash_password
from storage.models import StaffRole, StaffUser
from storage.uow import UnitOfWork

LOGIN_PATTERN = re.compile(r"[a-z0-9._-]{2,64}")
BAD_LOGIN = N_("A login has 2 to 64 letters, digits, dots, dashes or underscores.")


class AccountProblem(ValueError):
    """The account cannot be created as asked; the message says why."""


def normalise_login(login: str) -> str:
    """The login as stored: trimmed, in lower case."""
    return login.strip().lower()


async def create_account(
    uow: UnitOfWork,
    hasher: PasswordHasher,
    *,
    login: str,
    password: str,
    role: StaffRole,
    regions: Sequence[str],
    display_name: str = "",
    must_change_password: bool = False,
) -> StaffUser:
    """Check and add a staff account in ``uow`` (the caller audits and commits).

    Raises :class:`AccountProblem` for a malformed or taken login, an unknown region, a reviewer
    without a region, or a password that fails the policy.
    """
    login = normalise_login(login)
    if not LOGIN_PATTERN.fullmatch(login):
        raise AccountProblem(BAD_LOGIN)
    if role == StaffRole.REVIEWER and not regions:
        raise AccountProblem(N_("A reviewer needs at least one region."))
    known = {region.code for region in await uow.reference.regions()}
    unknown = [code for code in regions if code not in known]
    if unknown:
        # The panel offers only known regions, so only the command line can get here.
        raise AccountProblem(f"unknown region(s): {', '.join(unknown)}")
    if await uow.staff.by_login(login):
        raise AccountProblem(N_("This login is taken."))
    try:
        password_hash = hash_password(hasher, password)
    except PasswordPolicyError as exc:
        raise AccountProblem(str(exc)) from exc
    return uow.staff.add(
        login=login,
        password_hash=password_hash,
        role=role,
        regions=sorted(set(regions)),
        display_name=display_name,
        must_change_password=must_change_password,
    )
