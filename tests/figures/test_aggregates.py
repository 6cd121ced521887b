"""Stored aggregates equal a plain-Python recomputation from the raw rows, on both databases."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError

from admin.figures import refresh
from admin.figures.refresh import rebuild_all, refresh_changed, refresh_months
from storage.database import Database
from storage.models import (
    CELL_COUNTS,
    Case,
    CaseStatus,
    Feedback,
    MonthlyAggregate,
    MonthlyRollup,
    Office,
    Service,
    Tag,
    TagSource,
)
from storage.uow import UnitOfWork
from tests.figures.factory import clear_feedback, insert_specs, random_spec
from tests.figures.recompute import assert_same, recompute, stored

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


async def _rebuild(database: Database, now: datetime = NOW) -> None:
    async with UnitOfWork(database.sessions) as uow:
        await rebuild_all(uow.session, now=now)
        await uow.commit()


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(0, 60))
async def test_aggregates_equal_python_recomputation(
    database: Database, seed: int, size: int
) -> None:
    await clear_feedback(database)
    rng = random.Random(seed)
    await insert_specs(database, [random_spec(rng) for _ in range(size)])
    await _rebuild(database)
    assert_same(await recompute(database), await stored(database))


async def test_median_of_even_and_odd_counts(database: Database) -> None:
    rng = random.Random(5)
    specs = []
    for minutes in (10, 30, 20, 1000):  # even: median (20 + 30) / 2 = 25 minutes
        spec = random_spec(rng)
        spec.month, spec.office, spec.service = "2026-09", 0, 0
        spec.channel, spec.language = specs[0].channel if specs else spec.channel, spec.language
        spec.case_status, spec.first_action_minutes = CaseStatus.NEW, minutes
        specs.append(spec)
    for spec in specs:
        spec.channel, spec.language = specs[0].channel, specs[0].language
    await insert_specs(database, specs)
    await _rebuild(database)
    cells = await stored(database)
    assert len(cells) == 1
    (cell,) = cells.values()
    assert abs(cell["first_action_seconds_median"] - 25 * 60) < 1e-3
    assert cell["first_action_count"] == 4


async def test_staff_correction_overrides_model(database: Database) -> None:
    rng = random.Random(9)
    spec = random_spec(rng)
    spec.has_text = True
    spec.model_tags = {"rudeness": True, "delay": False}
    spec.staff_tags = [("rudeness", False), ("delay", True), ("delay", False), ("delay", True)]
    await insert_specs(database, [spec])
    await _rebuild(database)
    (cell,) = (await stored(database)).values()
    assert cell["tag_rudeness"] == 0  # the staff said no
    assert cell["tag_delay"] == 1  # the newest staff row says yes
    assert cell["complaints"] == 1


async def test_incremental_refresh_equals_full_rebuild_and_is_idempotent(
    database: Database,
) -> None:
    rng = random.Random(42)
    ids = await insert_specs(database, [random_spec(rng) for _ in range(80)])
    await _rebuild(database, NOW)
    before = await stored(database)
    later = NOW + timedelta(hours=1)

    # Changes after the watermark: a new feedback, a staff tag, a case that moved.
    new_spec = random_spec(rng)
    new_spec.month = "2026-09"
    await insert_specs(database, [new_spec], stamp=later)
    async with UnitOfWork(database.sessions) as uow:
        target = await uow.session.get(Feedback, ids[0])
        assert target is not None
        uow.session.add(
            Tag(
                feedback_id=target.id,
                tag="corruption",
                source=TagSource.STAFF,
                present=True,
                created_at=later,
            )
        )
        await uow.session.execute(
            update(Case)
            .where(Case.feedback_id == ids[1])
            .values(status=CaseStatus.RESOLVED, updated_at=later)
        )
        await uow.commit()
        changed = {"2026-09", target.month}

    async with UnitOfWork(database.sessions) as uow:
        result = await refresh_changed(uow.session, now=later + timedelta(minutes=1))
        await uow.commit()
    expected = await recompute(database)
    assert_same(expected, await stored(database))
    assert set(result.months) >= changed
    untouched = {k: v for k, v in before.items() if k[0] not in result.months}
    assert untouched == {k: v for k, v in (await stored(database)).items() if k in untouched}

    # Nothing changed since: an incremental refresh touches no month.
    async with UnitOfWork(database.sessions) as uow:
        again = await refresh_changed(
            uow.session, now=later + timedelta(hours=2), overlap=timedelta(0)
        )
        await uow.commit()
    assert again.months == []

    # A full rebuild and a second refresh of every month give the same rows.
    first = await stored(database)
    await _rebuild(database, later + timedelta(hours=3))
    async with UnitOfWork(database.sessions) as uow:
        await refresh_months(uow.session, ["2026-08", "2026-09", "2026-10"])
        await uow.commit()
    assert await stored(database) == first


async def _computed_at(database: Database) -> dict[tuple[str, ...], datetime]:
    async with UnitOfWork(database.sessions) as uow:
        rows = (await uow.session.scalars(select(MonthlyAggregate))).all()
    return {
        (r.month, r.office_code, r.service_code, r.channel, r.language): r.computed_at for r in rows
    }


async def test_incremental_refresh_recomputes_only_the_changed_cells(database: Database) -> None:
    rng = random.Random(7)
    ids = await insert_specs(database, [random_spec(rng) for _ in range(60)])
    await _rebuild(database, NOW)
    later = NOW + timedelta(hours=1)
    async with UnitOfWork(database.sessions) as uow:
        target = await uow.session.get(Feedback, ids[5])
        assert target is not None
        uow.session.add(
            Tag(
                feedback_id=target.id,
                tag="delay",
                source=TagSource.STAFF,
                present=True,
                created_at=later,
            )
        )
        await uow.commit()
        office = await uow.session.get(Office, target.office_id) if target.office_id else None
        service = await uow.session.get(Service, target.service_id) if target.service_id else None
        changed_cell = (
            target.month,
            office.code if office else "",
            service.code if service else "",
            target.channel,
            target.language,
        )

    refreshed_at = later + timedelta(minutes=1)
    async with UnitOfWork(database.sessions) as uow:
        result = await refresh_changed(uow.session, now=refreshed_at, overlap=timedelta(0))
        await uow.commit()
    assert (result.months, result.cells) == ([target.month], 1)
    stamps = await _computed_at(database)
    assert {key for key, at in stamps.items() if at == refreshed_at} == {changed_cell}
    assert_same(await recompute(database), await stored(database))


async def _rollups_match_cells(database: Database) -> None:
    """Each stored roll-up is the sum of its month's cells by office or by service."""
    cells = await stored(database)
    expected: dict[tuple[str, ...], dict[str, float]] = {}
    for (month, region, office, service, _channel, _language), counts in cells.items():
        for key in ((month, "office", region, office, ""), (month, "service", "", "", service)):
            total = expected.setdefault(key, dict.fromkeys(CELL_COUNTS, 0))
            for name in CELL_COUNTS:
                total[name] += counts[name]
    async with UnitOfWork(database.sessions) as uow:
        rows = (await uow.session.scalars(select(MonthlyRollup))).all()
    actual = {
        (r.month, r.level, r.region_code, r.office_code, r.service_code): {
            name: getattr(r, name) for name in CELL_COUNTS
        }
        for r in rows
    }
    assert actual.keys() == expected.keys()
    for key, counts in expected.items():
        for name, value in counts.items():
            assert actual[key][name] == pytest.approx(value), (key, name)


async def test_rollups_are_the_sums_of_the_cells_after_every_kind_of_refresh(
    database: Database,
) -> None:
    rng = random.Random(5)
    ids = await insert_specs(database, [random_spec(rng) for _ in range(50)])
    await _rebuild(database, NOW)
    await _rollups_match_cells(database)
    later = NOW + timedelta(hours=1)
    await insert_specs(database, [random_spec(rng) for _ in range(4)], stamp=later)
    async with UnitOfWork(database.sessions) as uow:
        await uow.session.execute(
            update(Case)
            .where(Case.feedback_id == ids[3])
            .values(status=CaseStatus.RESOLVED, updated_at=later)
        )
        await uow.commit()
    async with UnitOfWork(database.sessions) as uow:
        await refresh_changed(uow.session, now=later + timedelta(minutes=1))
        await uow.commit()
    await _rollups_match_cells(database)
    async with UnitOfWork(database.sessions) as uow:
        await refresh_months(uow.session, ["2026-09"], now=later + timedelta(minutes=2))
        await uow.commit()
    await _rollups_match_cells(database)


async def test_a_large_change_recomputes_whole_months_with_the_same_result(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(11)
    await insert_specs(database, [random_spec(rng) for _ in range(40)])
    await _rebuild(database, NOW)
    later = NOW + timedelta(hours=1)
    new = [random_spec(rng) for _ in range(5)]
    for spec in new:
        spec.month = "2026-10"
    await insert_specs(database, new, stamp=later)
    monkeypatch.setattr(refresh, "CELL_REFRESH_LIMIT", 2)

    refreshed_at = later + timedelta(minutes=1)
    async with UnitOfWork(database.sessions) as uow:
        result = await refresh_changed(uow.session, now=refreshed_at, overlap=timedelta(0))
        await uow.commit()
    stamps = await _computed_at(database)
    assert result.months == ["2026-10"]
    assert {key[0] for key, at in stamps.items() if at == refreshed_at} == {"2026-10"}
    assert all(at == refreshed_at for key, at in stamps.items() if key[0] == "2026-10")
    assert_same(await recompute(database), await stored(database))


async def test_month_refresh_touches_only_that_month(database: Database) -> None:
    rng = random.Random(3)
    await insert_specs(database, [random_spec(rng) for _ in range(50)])
    await _rebuild(database)
    async with UnitOfWork(database.sessions) as uow:
        stamps_before = dict(
            (await uow.session.execute(select(MonthlyAggregate.id, MonthlyAggregate.month))).all()
        )
        await refresh_months(uow.session, ["2026-09"], now=NOW + timedelta(days=1))
        await uow.commit()
    async with UnitOfWork(database.sessions) as uow:
        rows = (
            await uow.session.execute(select(MonthlyAggregate.id, MonthlyAggregate.month))
        ).all()
    kept = {i for i, m in rows if m != "2026-09"}
    assert kept == {i for i, m in stamps_before.items() if m != "2026-09"}


async def _indexes(database: Database) -> list[tuple[str, tuple[str, ...], bool]]:
    """The aggregates table's indexes and unique constraints as the database reports them."""

    def read(connection: Connection) -> list[tuple[str, tuple[str, ...], bool]]:
        found = inspect(connection)
        indexes = [
            (str(i["name"]), tuple(str(c) for c in i["column_names"]), bool(i["unique"]))
            for i in found.get_indexes("monthly_aggregates")
        ]
        uniques = [
            (str(u["name"]), tuple(u["column_names"]), True)
            for u in found.get_unique_constraints("monthly_aggregates")
        ]
        return sorted(indexes + uniques)

    async with database.engine.connect() as connection:
        return await connection.run_sync(read)


async def test_rebuild_keeps_the_tables_indexes_and_a_failed_one_keeps_the_cells(
    database: Database,
) -> None:
    rng = random.Random(11)
    await insert_specs(database, [random_spec(rng) for _ in range(40)])
    migrated = await _indexes(database)
    await _rebuild(database)
    await _rebuild(database, NOW + timedelta(hours=1))
    assert await _indexes(database) == migrated
    cells = await stored(database)
    assert cells

    # A rebuild rolled back (it failed after its insert) leaves the old cells and indexes.
    async with UnitOfWork(database.sessions) as uow:
        await rebuild_all(uow.session, now=NOW + timedelta(hours=2))
        await uow.rollback()
    assert await stored(database) == cells
    assert await _indexes(database) == migrated

    # The unique key over a cell still holds after a rebuild.
    async with UnitOfWork(database.sessions) as uow:
        one = (await uow.session.scalars(select(MonthlyAggregate).limit(1))).one()
        copy = {c.name: getattr(one, c.key) for c in MonthlyAggregate.__table__.columns}
        del copy["id"]
        with pytest.raises(IntegrityError):
            await uow.session.execute(insert(MonthlyAggregate).values(copy))
