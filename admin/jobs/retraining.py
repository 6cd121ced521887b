"""Weekly retraining of a candidate tagger from the staff's corrected labels.

The examples are the effective tags (staff correction over model) of every feedback that has at
least one staff tag row and still has its text. The classifier's own function decides whether
the candidate is promoted; this job only gathers the examples and records the decision.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from admin.figures.sql import TAGS
from admin.jobs.deps import CorrectedExample, JobDeps
from admin.jobs.runner import Outcome, RunResult, run_once
from storage.repositories.feedback import effective_tags
from storage.uow import UnitOfWork

MAX_EXAMPLES = 200_000


async def corrected_examples(deps: JobDeps) -> list[CorrectedExample]:
    """Training examples from staff-corrected feedback that still has text."""
    async with UnitOfWork(deps.database.sessions) as uow:
        rows = await uow.feedback.staff_corrected(limit=MAX_EXAMPLES)
    examples = []
    for feedback in rows:
        present = effective_tags(feedback.tags)
        labels = tuple(tag for tag in TAGS if present.get(tag, {}).get("present"))
        examples.append(
            CorrectedExample(
                id=f"feedback-{feedback.id}",
                lang=str(feedback.language),
                text=feedback.text or "",
                labels=labels,
            )
        )
    return examples


async def retrain_job(deps: JobDeps, now: datetime | None = None) -> RunResult:
    """Train a candidate from the corrections (in a worker thread: it is CPU-bound)."""
    now = now or deps.clock()
    year, week, _ = deps.local_time(now).isocalendar()
    retrainer = deps.retrainer

    async def body() -> Outcome:
        if retrainer is None:
            return Outcome(detail="retraining is not available in this build")
        examples = await corrected_examples(deps)
        decision = await asyncio.to_thread(retrainer, examples, now)
        return Outcome(rows=len(examples), detail=decision)

    return await run_once(deps, "retrain", f"retrain:{year}-W{week:02d}", body, now)
