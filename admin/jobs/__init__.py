"""The scheduled jobs of ``pikir serve`` and :func:`register_jobs`, which puts them on the
APScheduler ``AsyncIOScheduler`` with their schedules and misfire policy from the settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from admin.jobs.deps import JobDeps
from admin.jobs.figures_jobs import close_month_job, refresh_aggregates_job
from admin.jobs.housekeeping import purge_job
from admin.jobs.notices import sla_reminders_job, weekly_digest_job
from admin.jobs.retention import retention_job
from admin.jobs.retraining import retrain_job
from admin.jobs.runner import RunResult

JobFunction = Callable[[JobDeps, datetime | None], Awaitable[RunResult]]


def job_table(deps: JobDeps) -> list[tuple[str, JobFunction, str, int]]:
    """(id, function, crontab, misfire grace seconds) of every job."""
    s = deps.schedules
    grace = s.misfire_grace_seconds
    return [
        ("aggregate", refresh_aggregates_job, s.aggregate, grace),
        ("month_close", close_month_job, s.month_close, s.month_close_misfire_grace_seconds),
        ("sla_reminders", sla_reminders_job, s.sla_reminders, grace),
        ("weekly_digest", weekly_digest_job, s.weekly_digest, grace),
        ("retrain", retrain_job, s.retrain, grace),
        ("retention", retention_job, s.retention, grace),
        ("purge", purge_job, s.purge, grace),
    ]


def register_jobs(scheduler: BaseScheduler, deps: JobDeps) -> list[str]:
    """Add every job to ``scheduler``; returns their ids.

    ``coalesce`` folds runs missed during downtime into one; ``misfire_grace_time`` says how late
    a run may still start (days for the month close, so a server down on the 1st still sends
    the pack when it comes back). ``max_instances=1`` keeps a slow run from overlapping itself.
    """
    ids = []
    for job_id, function, crontab, grace in job_table(deps):
        scheduler.add_job(
            function,
            CronTrigger.from_crontab(crontab, timezone=deps.figures.timezone),
            args=[deps, None],
            id=job_id,
            name=job_id,
            misfire_grace_time=grace,
            coalesce=deps.schedules.coalesce,
            max_instances=1,
            replace_existing=True,
        )
        ids.append(job_id)
    return ids
