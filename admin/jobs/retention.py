"""Daily retention: free text and attachments older than the retention period are erased.

The feedback rows stay (``has_text`` too), so the aggregates and every figure are kept.
Photo files no attachment or draft refers to any more (their feedback was erased, by the
citizen or before erasure removed files, or the upload never became part of a feedback) are
removed from disk as well.
Work goes in batches so one run never holds a long transaction. The record of the scheduled
jobs' runs is kept for :data:`JOB_RUNS_KEPT`, so that table does not grow for ever.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from admin.jobs.deps import JobDeps
from admin.jobs.runner import Outcome, RunResult, run_once
from storage.files import remove_stored, stored_files, stored_path
from storage.models import Attachment, Conversation, Feedback
from storage.uow import UnitOfWork

BATCH = 1000
# A year and a bit of history for the admin; no run key is claimed again that long after
# (each names its own day, week or month).
JOB_RUNS_KEPT = timedelta(days=400)
# A photo is written before the conversation records it in the draft (the same request): a file
# younger than this is never taken for a forgotten one.
ORPHAN_GRACE = timedelta(days=1)


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
            await uow.session.execute(
                update(Attachment)
                .where(Attachment.id.in_([row.id for row in rows]))
                .values(location=None, erased_at=now)
                .execution_options(synchronize_session=False)
            )
            await uow.commit()
        # After the commit: a crash in between leaves a file the sweep below removes next time.
        await asyncio.to_thread(remove_stored, deps.data_dir, [row.location for row in rows])
        files += len(rows)
    return texts, files


async def remove_forgotten_files(deps: JobDeps, now: datetime) -> int:
    """Remove photo files under the data directory that no live attachment or draft names.

    This covers feedback erased by the citizen before erasure removed files, an erasure whose
    files a crash left behind, and uploads that never became part of a feedback.
    """
    candidates = await asyncio.to_thread(
        lambda: list(stored_files(deps.data_dir, older_than=now - ORPHAN_GRACE))
    )
    if not candidates:
        return 0
    live: set[Path | None] = set()
    async with UnitOfWork(deps.database.sessions) as uow:
        live.update(
            stored_path(deps.data_dir, location)
            for location in await uow.session.scalars(
                select(Attachment.location).where(
                    Attachment.erased_at.is_(None), Attachment.location.is_not(None)
                )
            )
        )
        last_id = 0
        while True:
            batch = (
                await uow.session.execute(
                    select(Conversation.id, Conversation.data)
                    .where(Conversation.id > last_id)
                    .order_by(Conversation.id)
                    .limit(BATCH)
                )
            ).all()
            if not batch:
                break
            for row in batch:
                live.update(stored_path(deps.data_dir, ref) for ref in _file_refs(row.data))
            last_id = batch[-1].id
    forgotten = [location for location, path in candidates if path.resolve() not in live]
    return await asyncio.to_thread(remove_stored, deps.data_dir, forgotten)


def _file_refs(data: Any) -> Iterator[str]:
    """The photo locations a conversation's saved draft holds (``file_ref`` anywhere in it)."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "file_ref" and isinstance(value, str):
                yield value
            else:
                yield from _file_refs(value)
    elif isinstance(data, list):
        for item in data:
            yield from _file_refs(item)


async def retention_job(deps: JobDeps, now: datetime | None = None) -> RunResult:
    """The daily retention run."""
    now = now or deps.clock()
    day = deps.local_time(now).strftime("%Y-%m-%d")

    async def body() -> Outcome:
        texts, files = await erase_old_content(deps, now)
        forgotten = await remove_forgotten_files(deps, now)
        async with UnitOfWork(deps.database.sessions) as uow:
            runs = await uow.job_runs.purge(started_before=now - JOB_RUNS_KEPT)
            await uow.commit()
        return Outcome(
            rows=texts + files + forgotten,
            detail=f"{texts} text(s), {files} attachment(s) erased; "
            f"{forgotten} forgotten photo file(s) removed; {runs} old job run(s) forgotten",
        )

    return await run_once(deps, "retention", f"retention:{day}", body, now)
