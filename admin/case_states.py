"""The life of a case as a state machine: which status may follow which, in one place.

Forward moves take a case towards an outcome (new → in review → answered → resolved or
rejected). Backward moves reopen it (answered, resolved or rejected → in review): they are
never the default anywhere, and they need the staff member's explicit confirmation and a
reason, so a slip of the hand cannot undo an answer. The server enforces every rule here; the
case form only offers what this module allows.
"""

from __future__ import annotations

from collections.abc import Mapping

from admin.i18n import N_
from storage.models import CaseStatus

FORWARD: Mapping[CaseStatus, tuple[CaseStatus, ...]] = {
    CaseStatus.NEW: (
        CaseStatus.IN_REVIEW,
        CaseStatus.ANSWERED,
        CaseStatus.RESOLVED,
        CaseStatus.REJECTED,
    ),
    CaseStatus.IN_REVIEW: (CaseStatus.ANSWERED, CaseStatus.RESOLVED, CaseStatus.REJECTED),
    CaseStatus.ANSWERED: (CaseStatus.RESOLVED, CaseStatus.REJECTED),
    CaseStatus.RESOLVED: (),
    CaseStatus.REJECTED: (),
}
BACKWARD: Mapping[CaseStatus, tuple[CaseStatus, ...]] = {
    CaseStatus.NEW: (),
    CaseStatus.IN_REVIEW: (),
    CaseStatus.ANSWERED: (CaseStatus.IN_REVIEW,),
    CaseStatus.RESOLVED: (CaseStatus.IN_REVIEW,),
    CaseStatus.REJECTED: (CaseStatus.IN_REVIEW,),
}
# Moves that close a case need a resolution in words when they are a refusal.
NEEDS_REASON: frozenset[CaseStatus] = frozenset({CaseStatus.REJECTED})


class MoveRefused(ValueError):
    """The move is not allowed as asked; the message is an untranslated English text."""


def is_backward(current: CaseStatus, target: CaseStatus) -> bool:
    """Whether moving from ``current`` to ``target`` reopens the case."""
    return target in BACKWARD[current]


def allowed(current: CaseStatus, target: CaseStatus) -> bool:
    """Whether ``target`` may follow ``current`` at all."""
    return target in FORWARD[current] or target in BACKWARD[current]


def check_move(
    current: CaseStatus, target: CaseStatus, reason: str = "", *, confirmed: bool = False
) -> None:
    """Refuse a move that is not allowed, or lacks what it needs (confirmation, reason)."""
    if target == current:
        raise MoveRefused(N_("The case already has this status; nothing was changed."))
    if not allowed(current, target):
        raise MoveRefused(N_("This status change is not possible."))
    if is_backward(current, target):
        if not confirmed:
            raise MoveRefused(
                N_("Moving a case back needs the box “Move the case back” ticked and a reason.")
            )
        if not reason.strip():
            raise MoveRefused(N_("Moving a case back needs a reason."))
    if target in NEEDS_REASON and not reason.strip():
        raise MoveRefused(N_("A rejection needs a reason."))
