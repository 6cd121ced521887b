"""Runs of the scheduled jobs: the claim row that makes each run happen once, and its record."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import JobRun

RUNNING = "running"
FAILED = "failed"


class JobRunRepository:
    """Claims, finishes and lists job runs."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(
        self, job: str, run_key: str, *, now: datetime, lease: timedelta
    ) -> JobRun | None:
        """Claim the run ``run_key`` for this process; None when another process has it.

        The unique ``run_key`` decides between processes racing for a new run. A run that
        failed, or that has been "running" longer than ``lease`` (its process died), may be
        claimed again; the conditional UPDATE lets exactly one process do so.
        """
        try:
            async with self.session.begin_nested():
                run = JobRun(job=job, run_key=run_key, started_at=now, outcome=RUNNING, rows=0)
                self.session.add(run)
            return run
        except IntegrityError:
            pass
        result = await self.session.execute(
            update(JobRun)
            .where(
                JobRun.run_key == run_key,
                or_(
                    JobRun.outcome == FAILED,
                    (JobRun.outcome == RUNNING) & (JobRun.started_at < now - lease),
                ),
            )
            .values(started_at=now, finished_at=None, outcome=RUNNING, rows=0, detail=None)
            .execution_options(synchronize_session=False)
        )
        if not getattr(result, "rowcount", 0):
            return None
        return await self.session.scalar(
            select(JobRun)
            .where(JobRun.run_key == run_key)
            .execution_options(populate_existing=True)
        )

    async def finish(
        self, run_id: int, *, outcome: str, rows: int, detail: str | None, now: datetime
    ) -> None:
        """Record how a claimed run ended."""
        await self.session.execute(
            update(JobRun)
            .where(JobRun.id == run_id)
            .values(finished_at=now, outcome=outcome, rows=rows, detail=detail)
        )

    async def recent(self, limit: int = 100, job: str | None = None) -> Sequence[JobRun]:
        """The latest runs, newest first."""
        query = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
        if job is not None:
            query = query.where(JobRun.job == job)
        return (await self.session.scalars(query)).all()

    async def purge(self, started_before: datetime) -> int:
        """Forget finished runs started before ``started_before``; returns how many."""
        result = await self.session.execute(
            delete(JobRun).where(JobRun.started_at < started_before, JobRun.outcome != RUNNING)
        )
        return int(getattr(result, "rowcount", 0) or 0)
