"""The case state machine on its own: every pair of statuses, forward and back."""

from __future__ import annotations

import itertools

import pytest

from admin import case_states
from admin.case_states import BACKWARD, FORWARD, MoveRefused, check_move, is_backward
from storage.models import CaseStatus

CLOSED_OR_ANSWERED = (CaseStatus.ANSWERED, CaseStatus.RESOLVED, CaseStatus.REJECTED)


def test_every_status_has_its_moves_and_none_is_both_ways() -> None:
    assert set(FORWARD) == set(BACKWARD) == set(CaseStatus)
    for status in CaseStatus:
        assert not set(FORWARD[status]) & set(BACKWARD[status])
        assert status not in FORWARD[status] and status not in BACKWARD[status]
    # Only answered, resolved and rejected cases can be moved back, and only into review.
    assert {s for s in CaseStatus if BACKWARD[s]} == set(CLOSED_OR_ANSWERED)
    assert all(BACKWARD[s] == (CaseStatus.IN_REVIEW,) for s in CLOSED_OR_ANSWERED)


@pytest.mark.parametrize(("current", "target"), list(itertools.product(CaseStatus, CaseStatus)))
def test_each_pair(current: CaseStatus, target: CaseStatus) -> None:
    reason = "checked with the office"
    if current == target or not case_states.allowed(current, target):
        with pytest.raises(MoveRefused):
            check_move(current, target, reason, confirmed=True)
        return
    if is_backward(current, target):
        for confirmed, given in ((False, reason), (True, ""), (False, "")):
            with pytest.raises(MoveRefused):
                check_move(current, target, given, confirmed=confirmed)
        check_move(current, target, reason, confirmed=True)
    elif target == CaseStatus.REJECTED:
        with pytest.raises(MoveRefused):
            check_move(current, target, "")
        check_move(current, target, reason)
    else:
        check_move(current, target)
