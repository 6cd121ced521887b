"""Migration 0007 (``digital_service``): low-rating cases move one rank down, behind the new
tag; the figures get its count columns; going back restores the ranks."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from storage.database import Database
from storage.migrate import downgrade, upgrade
from tests.storage.test_stairway import empty_database  # noqa: F401 - the fixture

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


async def _priorities(db: Database) -> list[int]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(text("SELECT priority FROM cases ORDER BY id"))
        return [row[0] for row in rows]


async def test_low_rating_cases_move_behind_the_new_tag(
    empty_database: Database,  # noqa: F811
) -> None:
    db = empty_database
    await upgrade(db, "0006")
    async with db.engine.begin() as conn:
        for case_id, priority in ((1, 0), (2, 5), (3, 6)):  # corruption, delay, low rating
            await conn.execute(
                text(
                    "INSERT INTO feedback (id, ref, channel, language, month, has_text,"
                    " is_direct_report, consent_contact, created_at, updated_at) VALUES"
                    " (:id, :ref, 'web', 'kk', '2026-03', false, false, false, :now, :now)"
                ),
                {"id": case_id, "ref": f"PK-AAAAAAA{case_id}", "now": NOW},
            )
            await conn.execute(
                text(
                    "INSERT INTO cases (id, feedback_id, status, priority, channel, language,"
                    " labels, opened_at, version, created_at, updated_at) VALUES (:id, :id,"
                    " 'new', :priority, 'web', 'kk', '', :now, 1, :now, :now)"
                ),
                {"id": case_id, "priority": priority, "now": NOW},
            )
    await upgrade(db, "0007")
    assert await _priorities(db) == [0, 5, 7]
    async with db.engine.begin() as conn:
        await conn.execute(text("UPDATE cases SET priority = 6 WHERE id = 2"))  # now online
        await conn.execute(
            text(
                "INSERT INTO monthly_rollups (month, level, region_code, office_code,"
                " service_code, responses, rated, rating_sum, rating_1, rating_2, rating_3,"
                " rating_4, rating_5, politeness_answered, politeness_positive,"
                " waiting_answered, waiting_positive, information_answered,"
                " information_positive, result_answered, result_positive,"
                " no_extra_payment_answered, no_extra_payment_positive, with_text, complaints,"
                " tag_rudeness, tag_paperwork_error, tag_hidden_service, tag_corruption,"
                " tag_delay, tag_misinformation, tag_digital_service, cases_opened,"
                " cases_answered, cases_resolved, first_action_count, first_action_seconds_sum)"
                " VALUES ('2026-03', 'office', '', '', '', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,"
                " 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0)"
            )
        )
    await downgrade(db, "0006")
    # The old scheme had nothing after delay but the low rating: an online-only case joins it.
    assert await _priorities(db) == [0, 6, 6]
    await upgrade(db, "head")
    assert await _priorities(db) == [0, 7, 7]
