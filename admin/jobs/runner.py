"""Running a job once: claim the run's row, do the work, record how it ended.

The claim row (unique ``run_key``) is committed before the work starts, so with several
processes on PostgreSQL exactly one of them runs each run; the others see the row and skip.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import structlog

from admin.jobs.deps import JobDeps
from storage.uow import UnitOfWork

log = structlog.get_logger("pikir.jobs")
MAX_DETAIL = 2000


@dataclass(frozen=True)
class Outcome:
    """What a job's body reports: rows touched and a short human-readable detail."""

    rows: int = 0
    detail: str | None = None


@dataclass(frozen=True)
class RunResult:
    """Whether this process ran the job, and how it ended."""

    ran: bool
    outcome: str = "skipped"
    rows: int = 0
    detail: str | None = None


async def run_once(
    deps: JobDeps,
    job: str,
    run_key: str,
    body: Callable[[], Awaitable[Outcome]],
    now: datetime,
) -> RunResult:
    """Run ``body`` if this process wins the claim on ``run_key``; record start, end, outcome."""
    async with UnitOfWork(deps.database.sessions) as uow:
        run = await uow.job_runs.claim(job, run_key, now=now, lease=deps.schedules.lease)
        if run is None:
            log.info("job.skipped", job=job, run_key=run_key, reason="claimed elsewhere")
            return RunResult(ran=False)
        run_id = run.id
        await uow.commit()
    log.info("job.start", job=job, run_key=run_key)
    try:
        outcome = await body()
    except Exception as exc:  # a failed run is recorded and may be claimed again
        detail = f"{type(exc).__name__}: {exc}"[:MAX_DETAIL]
        await _finish(deps, run_id, "failed", 0, detail)
        log.exception("job.failed", job=job, run_key=run_key)
        _tell(deps, job, "failed")
        return RunResult(ran=True, outcome="failed", detail=detail)
    summary = outcome.detail[:MAX_DETAIL] if outcome.detail else None
    await _finish(deps, run_id, "ok", outcome.rows, summary)
    log.info("job.done", job=job, run_key=run_key, rows=outcome.rows)
    _tell(deps, job, "ok")
    return RunResult(ran=True, outcome="ok", rows=outcome.rows, detail=summary)


async def _finish(deps: JobDeps, run_id: int, outcome: str, rows: int, detail: str | None) -> None:
    async with UnitOfWork(deps.database.sessions) as uow:
        await uow.job_runs.finish(
            run_id, outcome=outcome, rows=rows, detail=detail, now=deps.clock()
        )
        await uow.commit()


def _tell(deps: JobDeps, job: str, outcome: str) -> None:
    if deps.on_run is not None:
        deps.on_run(job, outcome)
