"""Migration 0006 rolls up the cells stored before it, so the report pages keep their figures."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from storage.database import Database
from storage.migrate import downgrade, upgrade
from tests.storage.test_stairway import empty_database  # noqa: F401 - the fixture

NOW = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
CELLS = [
    # month, region, office, service, channel, language, responses, rating_5, seconds sum
    ("2026-09", "astana", "AST-01", "passport", "web", "kk", 3, 1, 60.0),
    ("2026-09", "astana", "AST-01", "passport", "telegram", "ru", 4, 2, 30.5),
    ("2026-09", "astana", "AST-01", "", "web", "ru", 2, 0, 0.0),
    ("2026-09", "almaty", "ALA-01", "passport", "web", "en", 5, 5, 10.0),
    ("2026-10", "astana", "AST-01", "passport", "web", "kk", 1, 1, 0.0),
]


async def test_existing_cells_are_rolled_up_by_office_and_by_service(
    empty_database: Database,  # noqa: F811
) -> None:
    db = empty_database
    await upgrade(db, "0005")
    async with db.engine.begin() as conn:
        for month, region, office, service, channel, language, n, fives, seconds in CELLS:
            await conn.execute(
                text(
                    "INSERT INTO monthly_aggregates (month, region_code, office_code,"
                    " service_code, channel, language, responses, rated, rating_sum, rating_1,"
                    " rating_2, rating_3, rating_4, rating_5, politeness_answered,"
                    " politeness_positive, waiting_answered, waiting_positive,"
                    " information_answered, information_positive, result_answered,"
                    " result_positive, no_extra_payment_answered, no_extra_payment_positive,"
                    " with_text, complaints, tag_rudeness, tag_paperwork_error,"
                    " tag_hidden_service, tag_corruption, tag_delay, tag_misinformation,"
                    " cases_opened, cases_answered, cases_resolved, first_action_count,"
                    " first_action_seconds_sum, computed_at) VALUES (:month, :region, :office,"
                    " :service, :channel, :language, :n, :n, 0, 0, 0, 0, 0, :fives, 0, 0, 0, 0,"
                    " 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, :seconds, :now)"
                ),
                {
                    "month": month,
                    "region": region,
                    "office": office,
                    "service": service,
                    "channel": channel,
                    "language": language,
                    "n": n,
                    "fives": fives,
                    "seconds": seconds,
                    "now": NOW,
                },
            )
    await upgrade(db, "0006")
    async with db.engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT month, level, region_code, office_code, service_code, responses,"
                    " rating_5, first_action_count, first_action_seconds_sum"
                    " FROM monthly_rollups ORDER BY month, level, region_code, office_code,"
                    " service_code"
                )
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        ("2026-09", "office", "almaty", "ALA-01", "", 5, 5, 1, 10.0),
        ("2026-09", "office", "astana", "AST-01", "", 9, 3, 3, 90.5),
        ("2026-09", "service", "", "", "", 2, 0, 1, 0.0),
        ("2026-09", "service", "", "", "passport", 12, 8, 3, 100.5),
        ("2026-10", "office", "astana", "AST-01", "", 1, 1, 1, 0.0),
        ("2026-10", "service", "", "", "passport", 1, 1, 1, 0.0),
    ]
    await downgrade(db, "0005")
    await upgrade(db, "head")
