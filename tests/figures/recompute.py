"""The aggregates recomputed in plain Python from the raw rows: the oracle for the SQL."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from storage.database import Database
from storage.models import CRITERIA, CaseStatus, Feedback, MonthlyAggregate
from storage.repositories.feedback import effective_tags
from storage.uow import UnitOfWork
from vocabulary import SEVERITY

KEYS = ("month", "region_code", "office_code", "service_code", "channel", "language")


async def recompute(database: Database) -> dict[tuple[str, ...], dict[str, Any]]:
    """Every cell's counts, by the cell's key."""
    async with UnitOfWork(database.sessions) as uow:
        rows = (
            await uow.session.scalars(
                select(Feedback).options(
                    selectinload(Feedback.office),
                    selectinload(Feedback.service),
                    selectinload(Feedback.tags),
                    selectinload(Feedback.case),
                )
            )
        ).all()
    cells: dict[tuple[str, ...], dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    waits: dict[tuple[str, ...], list[float]] = defaultdict(list)
    for f in rows:
        key = (
            f.month,
            f.office.region_code if f.office else "",
            f.office.code if f.office else "",
            f.service.code if f.service else "",
            str(f.channel),
            str(f.language),
        )
        cell = cells[key]
        cell["responses"] += 1
        if f.rating is not None:
            cell["rated"] += 1
            cell["rating_sum"] += f.rating
            cell[f"rating_{f.rating}"] += 1
        for name in CRITERIA:
            value = getattr(f, f"crit_{name}")
            cell[f"{name}_answered"] += value is not None
            cell[f"{name}_positive"] += value is True
        cell["with_text"] += f.has_text
        present = {t for t, v in effective_tags(f.tags).items() if v["present"]}
        cell["complaints"] += bool(present & set(SEVERITY))
        for tag in SEVERITY:
            cell[f"tag_{tag}"] += tag in present
        if f.case is not None:
            cell["cases_opened"] += 1
            cell["cases_answered"] += f.case.answered_at is not None
            cell["cases_resolved"] += f.case.status == CaseStatus.RESOLVED
            if f.case.first_action_at is not None:
                seconds = (f.case.first_action_at - f.case.opened_at).total_seconds()
                cell["first_action_count"] += 1
                cell["first_action_seconds_sum"] += seconds
                waits[key].append(seconds)
    result = {}
    for key, cell in cells.items():
        cell["first_action_seconds_median"] = statistics.median(waits[key]) if waits[key] else None
        result[key] = dict(cell)
    return result


MEASURES = [
    c.name for c in MonthlyAggregate.__table__.columns if c.name not in {"id", "computed_at", *KEYS}
]


async def stored(database: Database) -> dict[tuple[str, ...], dict[str, Any]]:
    """The stored aggregate rows, by the cell's key."""
    async with UnitOfWork(database.sessions) as uow:
        rows = (await uow.session.scalars(select(MonthlyAggregate))).all()
    return {tuple(getattr(r, k) for k in KEYS): {m: getattr(r, m) for m in MEASURES} for r in rows}


def assert_same(expected: dict, actual: dict) -> None:
    """Equal cells; seconds compared to a millisecond, since SQLite's julianday is a float."""
    assert set(actual) == set(expected)
    for key, cell in expected.items():
        got = actual[key]
        for measure in MEASURES:
            want = cell.get(measure, 0 if measure != "first_action_seconds_median" else None)
            have = got[measure]
            if measure.startswith("first_action_seconds"):
                if want is None:
                    assert have is None, (key, measure)
                else:
                    assert have is not None and abs(have - want) < 1e-3 * max(1, want), (
                        key,
                        measure,
                        have,
                        want,
                    )
            else:
                assert have == want, (key, measure, have, want)
