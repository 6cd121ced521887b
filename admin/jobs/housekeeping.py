"""The 6-hourly purge: forget what only served to deliver messages once.

Handled update ids are kept a week (Telegram redelivers within minutes, not days); the web
chat's history is kept as long as the retention period. Under a lease like every job, so with
several workers one of them purges.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from admin.jobs.deps import JobDeps
from admin.jobs.runner import Outcome, RunResult, run_once
from storage.uow import UnitOfWork

UPDATE_IDS_KEPT = timedelta(days=7)


async def purge_job(deps: JobDeps, now: datetime | None = None) -> RunResult:
    """Forget handled update ids older than a week and web chat history past retention."""
    now = now or deps.clock()
    local = deps.local_time(now)
    # One run key per 6-hour slot of the agency's day, so each scheduled run is claimed once.
    slot = f"{local:%Y-%m-%d}T{local.hour // 6 * 6:02d}"

    async def body() -> Outcome:
        async with UnitOfWork(deps.database.sessions) as uow:
            updates = await uow.conversations.forget_updates_before(now - UPDATE_IDS_KEPT)
            history = await uow.web_chat.purge_before(now - timedelta(days=deps.retention.days))
            await uow.commit()
        return Outcome(
            rows=updates + history,
            detail=f"{updates} handled update id(s), {history} web chat message(s) forgotten",
        )

    return await run_once(deps, "purge", f"purge:{slot}", body, now)
