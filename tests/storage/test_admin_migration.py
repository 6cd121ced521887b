"""Migration 0003 fills the new queue columns of cases that existed before it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from storage.database import Database
from storage.migrate import downgrade, upgrade
from tests.storage.test_stairway import empty_database  # noqa: F401 - the fixture

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


async def test_existing_cases_get_their_filter_columns_and_effective_tags(
    empty_database: Database,  # noqa: F811
) -> None:
    db = empty_database
    await upgrade(db, "0001")
    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO regions (code, name_kk, name_ru, name_en)"
                " VALUES ('astana', 'a', 'a', 'a')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO offices (id, code, region_code, name_kk, name_ru, name_en, address,"
                " active, created_at, updated_at) VALUES (7, 'AST-01', 'astana', 'a', 'a', 'a',"
                " '', true, :now, :now)"
            ),
            {"now": NOW},
        )
        await conn.execute(
            text(
                "INSERT INTO feedback (id, ref, channel, language, month, office_id, has_text,"
                " is_direct_report, consent_contact, created_at, updated_at) VALUES"
                " (1, 'PK-AAAAAAAA', 'web', 'kk', '2026-03', 7, false, false, false, :now, :now)"
            ),
            {"now": NOW},
        )
        await conn.execute(
            text(
                "INSERT INTO cases (id, feedback_id, status, priority, region_code, opened_at,"
                " version, created_at, updated_at) VALUES (1, 1, 'new', 2, 'astana', :now, 1,"
                " :now, :now)"
            ),
            {"now": NOW},
        )
        await conn.execute(
            text(
                "INSERT INTO case_events (case_id, kind, body, created_at)"
                " VALUES (1, 'note', 'kept', :now)"
            ),
            {"now": NOW},
        )
        tags = [
            ("rudeness", "model", True, NOW),
            ("delay", "model", True, NOW),
            ("corruption", "model", False, NOW),
            ("delay", "staff", False, NOW.replace(hour=10)),  # a correction wins
            ("corruption", "staff", True, NOW.replace(hour=10)),
        ]
        for tag, source, present, at in tags:
            await conn.execute(
                text(
                    "INSERT INTO tags (feedback_id, tag, source, present, created_at)"
                    " VALUES (1, :tag, :source, :present, :at)"
                ),
                {"tag": tag, "source": source, "present": present, "at": at},
            )
    await upgrade(db, "0003")
    async with db.engine.connect() as conn:
        for table, count in (("cases", 1), ("case_events", 1), ("tags", 5)):
            assert (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar() == count
        row = (
            await conn.execute(
                text("SELECT office_id, channel, language, labels FROM cases WHERE id = 1")
            )
        ).one()
        has_case = (await conn.execute(text("SELECT has_case FROM feedback"))).scalar()
    assert tuple(row) == (7, "web", "kk", ",corruption,rudeness,")
    assert has_case
    await downgrade(db, "0001")
    async with db.engine.connect() as conn:
        # Rebuilding tables (SQLite) loses nothing that refers to them.
        for table, count in (("cases", 1), ("case_events", 1), ("tags", 5), ("feedback", 1)):
            assert (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar() == count
