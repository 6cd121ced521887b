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

from admin.jobs.deps import JobDeps
from admin.jobs.runner import Outcome, RunResult, run_once
from storage.files import remove_stored, stored_files, stored_path
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
    cutoff = now - timedelta(days=deps.retention.days)
    texts = 0
    while True:
        async with UnitOfWork(deps.database.sessions) as uow:
            erased = await uow.feedback.erase_old_texts(cutoff, now, limit=BATCH)
            await uow.commit()
        if not erased:
            break
        texts += erased
    files = 0
    while True:
        async with UnitOfWork(deps.database.sessions) as uow:
            locations = await uow.feedback.erase_old_attachments(cutoff, now, limit=BATCH)
            await uow.commit()
        if not locations:
            break
        # After the commit: a crash in between leaves a file the sweep below removes next time.
        await asyncio.to_thread(remove_stored, deps.data_dir, locations)
        files += len(locations)
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
            for location in await uow.feedback.live_attachment_locations()
        )
        last_id = 0
        while batch := await uow.conversations.saved_drafts(after_id=last_id, limit=BATCH):
            for _, data in batch:
                live.update(stored_path(deps.data_dir, ref) for ref in _file_refs(data))
            last_id = batch[-1][0]
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
