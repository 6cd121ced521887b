"""Who may see what: the staff roles turned into case scopes and page permissions.

Every handler checks these on the server; hiding a link is never the protection.
"""

from __future__ import annotations

from collections.abc import Iterable

from storage.models import Case, StaffRole, StaffUser
from storage.repositories.cases import CaseScope
from vocabulary import ANTICORRUPTION_MAX_PRIORITY

CASE_ROLES: tuple[StaffRole, ...] = (StaffRole.REVIEWER, StaffRole.ANTICORRUPTION, StaffRole.ADMIN)
RAW_TEXT_ROLES: tuple[StaffRole, ...] = (StaffRole.ANTICORRUPTION, StaffRole.ADMIN)
REPORT_ROLES: tuple[StaffRole, ...] = (StaffRole.ANALYST, StaffRole.ADMIN)
ADMIN_ROLES: tuple[StaffRole, ...] = (StaffRole.ADMIN,)


def case_scope(staff: StaffUser) -> CaseScope | None:
    """The cases ``staff`` may work on, or None if their role sees no cases at all."""
    if staff.role == StaffRole.ADMIN:
        return CaseScope()
    if staff.role == StaffRole.ANTICORRUPTION:
        return CaseScope(max_priority=ANTICORRUPTION_MAX_PRIORITY)
    if staff.role == StaffRole.REVIEWER:
        return CaseScope(region_codes=tuple(staff.region_codes))
    return None


def can_see_case(staff: StaffUser, case: Case) -> bool:
    """Whether ``staff`` may open ``case``."""
    scope = case_scope(staff)
    return scope is not None and scope.allows(case)


def can_see_raw_text(staff: StaffUser) -> bool:
    """Whether ``staff`` may read citizens' text unmasked (each view is audited)."""
    return staff.role in RAW_TEXT_ROLES


def possible_assignees(candidates: Iterable[StaffUser], case: Case) -> list[StaffUser]:
    """The active staff among ``candidates`` who could work on ``case``."""
    return [user for user in candidates if user.active and can_see_case(user, case)]
