"""Every published figure equals a recomputation from the raw rows, and no suppressed cell can be
derived from what is published, on both databases, after incremental and full refreshes.

The recomputation and the disclosure check are written here from the rows and the published
records alone: they share no code with the figures they check (only the names of the tags).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from sqlalchemy.orm import selectinload

from admin.figures.exports import render
from admin.figures.indicators import FiguresConfig
from admin.figures.refresh import rebuild_all, refresh_changed
from admin.figures.report import build_report
from bot.settings import ReportSettings
from storage.database import Database
from storage.models import (
    CRITERIA,
    Case,
    CaseStatus,
    Channel,
    Feedback,
    Language,
    MonthlyAggregate,
    Respondent,
    Tag,
    TagSource,
)
from storage.uow import UnitOfWork
from tests.figures.factory import MONTH_STARTS, FeedbackSpec, clear_feedback, insert_specs
from vocabulary import SEVERITY

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
MONTHS = sorted(MONTH_STARTS)
OFFICES, SERVICES = 5, 3
Z95 = 1.959963984540054


@st.composite
def feedback_specs(draw: st.DrawFn) -> FeedbackSpec:
    """One feedback: a rated visit, an unrated one, or a direct report (no rating, no criteria)."""
    direct = draw(st.booleans()) and draw(st.booleans())
    has_text = direct or draw(st.booleans())
    spec = FeedbackSpec(
        month=draw(st.sampled_from(MONTHS)),
        office=draw(st.sampled_from([None, *range(OFFICES)])),
        service=draw(st.sampled_from([None, *range(SERVICES)])),
        channel=draw(st.sampled_from([Channel.TELEGRAM, Channel.WEB])),
        language=draw(st.sampled_from(list(Language))),
        rating=None if direct else draw(st.sampled_from([None, 1, 2, 3, 4, 5])),
        criteria={
            name: None if direct else draw(st.sampled_from([None, True, False]))
            for name in CRITERIA
        },
        has_text=has_text,
        minute=draw(st.integers(0, 60 * 24 * 27)),
        direct=direct,
    )
    if has_text:
        spec.model_tags = {
            tag: draw(st.booleans()) for tag in draw(st.sets(st.sampled_from(SEVERITY)))
        }
    spec.staff_tags = draw(
        st.lists(st.tuples(st.sampled_from(SEVERITY), st.booleans()), max_size=2)
    )
    if direct or draw(st.booleans()):
        spec.case_status = draw(st.sampled_from(list(CaseStatus)))
        spec.answered = draw(st.booleans())
    return spec


# Changes after the first refresh: (kind, which feedback, a value).
changes = st.lists(
    st.tuples(
        st.sampled_from(["staff_tag", "case", "erase"]),
        st.integers(0, 10_000),
        st.sampled_from(SEVERITY),
        st.booleans(),
    ),
    max_size=8,
)


# ---------------------------------------------------------------- the raw rows, recomputed


def _effective(tags: list[Tag]) -> set[str]:
    """Tags present: the newest staff row of a tag wins; otherwise the model's row."""
    present = set()
    for name in {t.tag for t in tags}:
        staff = [t for t in tags if t.tag == name and t.source == TagSource.STAFF]
        if staff:
            newest = max(staff, key=lambda t: (t.created_at, t.id))
            present |= {name} if newest.present else set()
        elif any(t.present for t in tags if t.tag == name and t.source == TagSource.MODEL):
            present.add(name)
    return present


async def raw_rows(database: Database) -> list[dict[str, Any]]:
    """Each feedback as the plain facts a figure counts."""
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
    out = []
    for f in rows:
        tags = _effective(list(f.tags))
        out.append(
            {
                "month": f.month,
                "region": f.office.region_code if f.office else "",
                "office": f.office.code if f.office else "",
                "service": f.service.code if f.service else "",
                "channel": str(f.channel),
                "language": str(f.language),
                "rating": f.rating,
                "criteria": {name: getattr(f, f"crit_{name}") for name in CRITERIA},
                "has_text": f.has_text,
                "tags": tags,
                "case": f.case.status if f.case else None,
                "answered": bool(f.case and f.case.answered_at),
            }
        )
    return out


def counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """The counts of a set of feedback rows."""
    c: dict[str, int] = defaultdict(int)
    for r in rows:
        c["responses"] += 1
        if r["rating"] is not None:
            c["rated"] += 1
            c["rating_sum"] += r["rating"]
            c[f"rating_{r['rating']}"] += 1
        for name, value in r["criteria"].items():
            c[f"{name}_answered"] += value is not None
            c[f"{name}_positive"] += value is True
        c["with_text"] += r["has_text"]
        c["complaints"] += bool(r["tags"])
        for tag in r["tags"]:
            c[f"tag_{tag}"] += 1
        if r["case"] is not None:
            c["cases_opened"] += 1
            c["cases_answered"] += r["answered"]
            c["cases_resolved"] += r["case"] == CaseStatus.RESOLVED
    return c


def wilson(k: int, n: int) -> tuple[float, float]:
    """The 95% Wilson interval, from its textbook formula."""
    p = k / n
    centre = p + Z95**2 / (2 * n)
    spread = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n))
    scale = 1 + Z95**2 / n
    return max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale)


def cell_of(record: dict[str, Any]) -> tuple[str, ...]:
    """A published record's cell: ``("office", region, office)`` and so on."""
    level = record["level"]
    if level == "region":
        return ("region", record["region"] or "")
    if level == "office":
        return ("office", record["region"] or "", record["office"] or "")
    if level == "service":
        return ("service", record["service"] or "")
    return ("country",)


def in_cell(row: dict[str, Any], cell: tuple[str, ...]) -> bool:
    """Whether a feedback row falls in a cell."""
    if cell[0] == "region":
        return row["region"] == cell[1]
    if cell[0] == "office":
        return (row["region"], row["office"]) == cell[1:]
    if cell[0] == "service":
        return row["service"] == cell[1]
    return True


# ---------------------------------------------------------------- the checks


async def check_stored_cells(database: Database, rows: list[dict[str, Any]]) -> None:
    """The stored cells hold exactly the counts of their rows."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        key = (r["month"], r["region"], r["office"], r["service"], r["channel"], r["language"])
        groups[key].append(r)
    async with UnitOfWork(database.sessions) as uow:
        stored = (await uow.session.scalars(select(MonthlyAggregate))).all()
    got = {
        (s.month, s.region_code, s.office_code, s.service_code, s.channel, s.language): s
        for s in stored
    }
    assert set(got) == set(groups)
    for key, members in groups.items():
        expected = counts(members)
        for name in ("responses", "rated", "rating_sum", "complaints", "with_text"):
            assert getattr(got[key], name) == expected[name], (key, name)
        for name in [f"tag_{t}" for t in SEVERITY] + ["cases_opened", "cases_resolved"]:
            assert getattr(got[key], name) == expected[name], (key, name)
        for name in CRITERIA:
            assert getattr(got[key], f"{name}_positive") == expected[f"{name}_positive"]


def check_published(
    records: list[dict[str, Any]], rows: list[dict[str, Any]], months: list[str], min_cell: int
) -> None:
    """Each published cell equals its rows' figures; a small one shows only the mark."""
    mark = f"n < {min_cell}"
    period = [r for r in rows if r["month"] in months]
    for record in records:
        members = [r for r in period if in_cell(r, cell_of(record))]
        c = counts(members)
        if record["suppressed"]:
            assert record["responses"] == mark
            assert all(v is None for k, v in record.items() if k not in IDENTITY), record
            continue
        assert c["responses"] >= min_cell, record  # never a small cell
        assert record["responses"] == c["responses"]
        assert record["csat_base"] == c["rated"]
        for name in ["complaints", "with_text", "cases_opened", "cases_resolved"]:
            assert record[name] == c[name], (record, name)
        for tag in SEVERITY:
            assert record[f"tag_{tag}"] == c[f"tag_{tag}"]
        if c["rated"]:
            good = c["rating_4"] + c["rating_5"]
            low, high = wilson(good, c["rated"])
            assert math.isclose(record["csat"], good / c["rated"])
            assert math.isclose(record["csat_low"], low, abs_tol=1e-12)
            assert math.isclose(record["csat_high"], high, abs_tol=1e-12)
            assert math.isclose(record["mean_rating"], c["rating_sum"] / c["rated"])
        else:
            assert record["csat"] is None
    # Every cell with rows is published (hidden or not), and nothing else.
    published = {cell_of(r) for r in records}
    assert ("country",) in published
    for r in period:
        assert ("region", r["region"]) in published
        if r["office"]:
            assert ("office", r["region"], r["office"]) in published
        if r["service"]:
            assert ("service", r["service"]) in published


IDENTITY = {"level", "region", "office", "service", "suppressed", "responses"}


def check_nothing_derivable(
    views: list[tuple[list[str], list[dict[str, Any]]]], rows: list[dict[str, Any]]
) -> None:
    """No suppressed cell of any view is pinned down by the published cells of all views.

    The unknowns are every (month, cell) count, the rows without an office or a service
    included (never published); the equations are the published counts and the sums that hold
    whatever is published (country = its regions = its services; region = its offices). A
    suppressed cell is derivable exactly when its row lies in the span of the equations.
    """
    cells: set[tuple[str, ...]] = {("country",)}
    for _months, records in views:
        cells |= {cell_of(r) for r in records}
    regions = {c[1] for c in cells if c[0] == "region"}
    cells |= {("office", "", "")} if "" in regions else set()
    cells.add(("service", ""))
    variables = {
        (month, cell): index
        for index, (month, cell) in enumerate((m, c) for m in MONTHS for c in sorted(cells))
    }
    equations: list[np.ndarray] = []

    def row(terms: list[tuple[tuple[str, tuple[str, ...]], int]]) -> np.ndarray:
        vector = np.zeros(len(variables))
        for key, sign in terms:
            vector[variables[key]] += sign
        return vector

    for month in MONTHS:
        country = (month, ("country",))
        equations.append(
            row([(country, 1)] + [((month, ("region", r)), -1) for r in sorted(regions)])
        )
        services = [c for c in cells if c[0] == "service"]
        equations.append(row([(country, 1)] + [((month, c), -1) for c in services]))
        for region in regions:
            offices = [c for c in cells if c[0] == "office" and c[1] == region]
            equations.append(
                row([((month, ("region", region)), 1)] + [((month, c), -1) for c in offices])
            )
    # A cell without rows in a month is absent from that month's view: known to be zero.
    remainders = {("office", "", ""), ("service", "")}
    for months, records in views:
        if len(months) == 1 and len(records) > 1:
            present = {cell_of(r) for r in records}
            for cell in cells - present - remainders:
                equations.append(row([((months[0], cell), 1)]))
    secrets: list[np.ndarray] = []
    for months, records in views:
        for record in records:
            target = row([((m, cell_of(record)), 1) for m in months])
            if not record["suppressed"]:
                equations.append(target)
            elif any(r["month"] in months and in_cell(r, cell_of(record)) for r in rows):
                secrets.append(target)  # a hidden cell without rows has no one to protect
    matrix = np.array(equations)
    rank = np.linalg.matrix_rank(matrix)
    for secret in secrets:
        if not secret.any():
            continue
        assert np.linalg.matrix_rank(np.vstack([matrix, secret])) > rank, (
            "a suppressed cell is derivable",
            [key for key, i in variables.items() if secret[i]],
        )


# ---------------------------------------------------------------- the property


async def _apply_changes(database: Database, ids: list[int], todo: list, at: datetime) -> None:
    """Staff corrections, case moves and erasures, stamped ``at``."""
    async with UnitOfWork(database.sessions) as uow:
        for number, (kind, pick, tag, flag) in enumerate(todo):
            feedback_id = ids[pick % len(ids)]
            if kind == "staff_tag":
                uow.session.add(
                    Tag(
                        feedback_id=feedback_id,
                        tag=tag,
                        source=TagSource.STAFF,
                        present=flag,
                        created_at=at,
                    )
                )
                await uow.session.execute(
                    update(Feedback).where(Feedback.id == feedback_id).values(updated_at=at)
                )
            elif kind == "case":
                status = CaseStatus.RESOLVED if flag else CaseStatus.REJECTED
                await uow.session.execute(
                    update(Case)
                    .where(Case.feedback_id == feedback_id)
                    .values(status=status, updated_at=at)
                )
            else:
                person = Respondent(channel=Channel.TELEGRAM, subject_hash=f"h{number}")
                uow.session.add(person)
                await uow.session.flush()
                await uow.session.execute(
                    update(Feedback)
                    .where(Feedback.id == feedback_id)
                    .values(respondent_id=person.id)
                )
                await uow.feedback.erase_respondent(person.id)
        await uow.commit()


async def _clear(database: Database) -> None:
    await clear_feedback(database)
    async with UnitOfWork(database.sessions) as uow:
        await uow.session.execute(delete(Respondent))
        await uow.commit()


async def _published(database: Database, config: FiguresConfig) -> list:
    views = []
    async with UnitOfWork(database.sessions) as uow:
        for month in MONTHS:
            for period, months in (("month", [month]), ("quarter", None)):
                report = await build_report(uow, month, config, period)
                records = json.loads(render(report, "json"))
                views.append((months or [m for m in report.months if m in MONTHS], records))
                trend = [
                    (
                        [row.month],
                        [{"level": "country", "suppressed": row.suppressed}],
                    )
                    for row in report.trend
                    if row.month in MONTHS
                ]
                views.extend(trend)
    return views


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    first=st.lists(feedback_specs(), max_size=45),
    later=st.lists(feedback_specs(), max_size=10),
    todo=changes,
    min_cell=st.integers(2, 6),
)
async def test_published_figures_equal_the_raw_rows_and_hide_small_cells(
    database: Database, first: list, later: list, todo: list, min_cell: int
) -> None:
    await _clear(database)
    config = FiguresConfig(ReportSettings(min_cell=min_cell))
    ids = await insert_specs(database, first)
    async with UnitOfWork(database.sessions) as uow:
        await refresh_changed(uow.session, now=NOW)  # the first run builds everything
        await uow.commit()
    stamp = NOW + timedelta(hours=1)
    ids += await insert_specs(database, later, stamp=stamp)
    if ids:
        await _apply_changes(database, ids, todo, stamp)
    rows = await raw_rows(database)

    for refresh_kind in ("incremental", "full"):
        async with UnitOfWork(database.sessions) as uow:
            if refresh_kind == "incremental":
                await refresh_changed(uow.session, now=stamp + timedelta(minutes=5))
            else:
                await rebuild_all(uow.session, now=stamp + timedelta(hours=1))
            await uow.commit()
        await check_stored_cells(database, rows)
        views = await _published(database, config)
        for months, records in views:
            if len(records) > 1 or "responses" in records[0]:
                check_published(records, rows, months, min_cell)
        check_nothing_derivable(views, rows)
