"""The historic import on both databases: bad rows by line, good rows loaded, idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from admin.figures.historic_import import CsvFormatError
from admin.figures.service import import_historic
from storage.database import Database
from storage.models import Case, Channel, Feedback, MonthlyAggregate
from storage.uow import UnitOfWork
from tests.figures.test_cli_figures import historic_csv


async def test_import_is_idempotent_and_reports_bad_lines(
    database: Database, tmp_path: Path
) -> None:
    data = historic_csv(tmp_path).read_bytes()
    report = await import_historic(database, data, timezone="Asia/Almaty")
    assert report.added == 24 and report.months == {"2016-05"}
    assert [e.split(":")[0] for e in report.errors] == ["line 26", "line 27", "line 28", "line 29"]
    again = await import_historic(database, data, timezone="Asia/Almaty")
    assert again.added == 0 and again.skipped == 24
    async with UnitOfWork(database.sessions) as uow:
        count = await uow.session.scalar(select(func.count()).select_from(Feedback))
        cases = await uow.session.scalar(select(func.count()).select_from(Case))
        channels = set((await uow.session.scalars(select(Feedback.channel))).all())
        low_ratings = await uow.session.scalar(
            select(func.count()).select_from(Feedback).where(Feedback.rating <= 2)
        )
        flagged = await uow.session.scalar(
            select(func.count()).select_from(Feedback).where(Feedback.has_case.is_(True))
        )
        responses = await uow.session.scalar(
            select(func.sum(MonthlyAggregate.responses)).where(MonthlyAggregate.month == "2016-05")
        )
    assert count == 24 and cases == 0 and channels == {Channel.IMPORT}
    assert low_ratings and flagged == 0  # past answers are not cases, and say so
    assert responses == 24  # the imported month is in the series


async def test_unusable_file_is_refused_whole(database: Database) -> None:
    with pytest.raises(CsvFormatError, match="missing column"):
        await import_historic(database, b"office,rating\nAST-01,5\n", timezone="Asia/Almaty")
    with pytest.raises(CsvFormatError, match="UTF-8"):
        await import_historic(database, b"source_id\xff\xfe", timezone="Asia/Almaty")
