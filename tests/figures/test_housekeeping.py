"""The 6-hourly purge: under a lease like every job, forgetting only what is old enough."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from admin.jobs.deps import JobDeps
from admin.jobs.housekeeping import purge_job
from bot.settings import RetentionSettings
from storage.database import Database
from storage.models import Channel, ProcessedUpdate, WebAuthor, WebMessage
from storage.uow import UnitOfWork

NOW = datetime(2026, 11, 20, 9, 15, tzinfo=UTC)


async def _count(database: Database, model: type) -> int:
    async with UnitOfWork(database.sessions) as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def test_purge_forgets_old_update_ids_and_history_once_per_slot(
    database: Database, tmp_path: Path
) -> None:
    async with UnitOfWork(database.sessions) as uow:
        for key, age in (("old", timedelta(days=8)), ("recent", timedelta(days=6))):
            uow.session.add(
                ProcessedUpdate(channel=Channel.TELEGRAM, update_key=key, created_at=NOW - age)
            )
        for age in (timedelta(days=400), timedelta(days=10)):
            uow.session.add(
                WebMessage(
                    chat_key="c" * 64, author=WebAuthor.BOT, text="hello", created_at=NOW - age
                )
            )
        await uow.commit()
    runs: list[tuple[str, str]] = []
    deps = JobDeps(
        database=database,
        data_dir=tmp_path,
        retention=RetentionSettings(days=365),
        clock=lambda: NOW,
        on_run=lambda job, outcome: runs.append((job, outcome)),
    )

    first = await purge_job(deps)
    assert first.ran and first.outcome == "ok" and first.rows == 2
    assert await _count(database, ProcessedUpdate) == 1
    assert await _count(database, WebMessage) == 1
    assert runs == [("purge", "ok")]

    # A second worker firing in the same 6-hour slot finds the run claimed.
    again = await purge_job(deps, NOW + timedelta(minutes=1))
    assert not again.ran and runs == [("purge", "ok")]
    later = await purge_job(deps, NOW + timedelta(hours=6))
    assert later.ran and later.rows == 0
