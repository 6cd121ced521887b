"""Daily retention: free text and attachments older than the retention period are erased.

The feedback rows stay (``has_text`` too), so the aggregates and every figure are kept.
Work goes in batches so one run never holds a long transaction. The record of the scheduled
jobs' runs is kept for :data:`JOB_RUNS_KEPT`, so that table does not grow for ever.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from admin.jobs.deps import JobDeps
from admin.jobs.runner import Outcome, RunResult, run_once
from storage.models import Attachment, Feedback
from storage.uow import UnitOfWork

BATCH = 1000
# A year and a bit of history for the admin; no run key is claimed again that long after
# (each names its own day, week or month).
JOB_RUNS_KEPT = timedelta(days=400)


async def erase_old_content(deps: JobDeps, now: datetime) -> tuple[int, int]:
    """Erase text and attachments created before ``now - retention``; returns both counts."""
    cutoff = now - timedelta(days=deps.retention_days)
    texts = 0
    while True:
        async with UnitOfWork(deps.database.sessions) as uow:
            ids = list(
                (
                    await uow.session.scalars(
                        select(Feedback.id)
                        .where(Feedback.created_at < cutoff, Feedback.text.is_not(None))
                        .limit(BATCH)
                    )
                ).all()
            )
            if not ids:
                break
            # updated_at is kept: erasing text changes no figure, so no month needs a refresh.
            await uow.session.execute(
                update(Feedback)
                .where(Feedback.id.in_(ids))
                .values(text=None, text_erased_at=now, updated_at=Feedback.updated_at)
                .execution_options(synchronize_session=False)
            )
            await uow.commit()
        texts += len(ids)
    files = 0
    uploads = deps.data_dir.resolve()
    while True:
        async with UnitOfWork(deps.database.sessions) as uow:
            rows = (
                await uow.session.execute(
                    select(Attachment.id, Attachment.location)
                    .where(Attachment.created_at < cutoff, Attachment.erased_at.is_(None))
                    .limit(BATCH)
                )
            ).all()
            if not rows:
                break
            for row in rows:
                _remove_stored_file(uploads, row.location)
            await uow.session.execute(
                update(Attachment)
                .where(Attachment.id.in_([row.id for row in rows]))
                .values(location=None, erased_at=now)
                .execution_options(synchronize_session=False)
            )
            await uow.commit()
        files += len(rows)
    return texts, files


def _remove_stored_file(root: Path, location: str | None) -> None:
    """Delete an uploaded file if it lives under the data directory (Telegram ids do not)."""
    if not location:
        return
    path = Path(location)
    candidate = (path if path.is_absolute() else root / path).resolve()
    if candidate.is_relative_to(root) and candidate.is_file():
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()


async def retention_job(deps: JobDeps, now: datetime | None = None) -> RunResult:
    """The daily retention run."""
    now = now or deps.clock()
    day = deps.local_time(now).strftime("%Y-%m-%d")

    async def body() -> Outcome:
        texts, files = await erase_old_content(deps, now)
        async with UnitOfWork(deps.database.sessions) as uow:
            runs = await uow.job_runs.purge(started_before=now - JOB_RUNS_KEPT)
            await uow.commit()
        return Outcome(
            rows=texts + files,
            detail=f"{texts} text(s), {files} attachment(s) erased; "
            f"{runs} old job run(s) forgotten",
        )

    return await run_once(deps, "retention", f"retention:{day}", body, now)
