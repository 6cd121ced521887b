"""Messages to the staff chat: hourly SLA reminders and the weekly digest.

Both go through the outbox and carry no personal data: case numbers, counts and shares only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select, update

from admin.figures.sql import TAGS, effective_tags
from admin.figures.stats import Share
from admin.jobs.deps import JobDeps
from admin.jobs.runner import Outcome, RunResult, run_once
from admin.staff_texts import StaffTexts
from storage.models import Case, CaseStatus, Channel, Feedback
from storage.uow import UnitOfWork

OPEN = (CaseStatus.NEW, CaseStatus.IN_REVIEW)
REMIND_AGAIN_AFTER = timedelta(hours=24)
LISTED = 20


async def sla_reminders_job(deps: JobDeps, now: datetime | None = None) -> RunResult:
    """Remind the staff chat of overdue open cases (each case at most once a day)."""
    now = now or deps.clock()
    slot = deps.local_time(now).strftime("%Y-%m-%dT%H")
    run_key = f"sla_reminders:{slot}"

    async def body() -> Outcome:
        if not deps.staff_chat_id:
            return Outcome(detail="no staff chat configured (PIKIR_TELEGRAM__STAFF_CHAT_ID)")
        async with UnitOfWork(deps.database.sessions) as uow:
            due = and_(
                Case.status.in_(OPEN),
                Case.due_at < now,
                or_(Case.reminded_at.is_(None), Case.reminded_at < now - REMIND_AGAIN_AFTER),
            )
            rows = (
                await uow.session.execute(
                    select(Case.id, Case.priority, Case.region_code)
                    .where(due)
                    .order_by(Case.priority, Case.due_at)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return Outcome(detail="no overdue cases")
            ids = [row.id for row in rows]
            await uow.session.execute(
                update(Case)
                .where(Case.id.in_(ids))
                .values(reminded_at=now)
                .execution_options(synchronize_session=False)
            )
            listed = ", ".join(f"#{row.id} ({row.region_code or '-'})" for row in rows[:LISTED])
            texts = StaffTexts(deps.staff_language)
            uow.outbox.enqueue(
                channel=Channel.TELEGRAM,
                address=deps.staff_chat_id,
                kind="sla_reminder",
                text=texts.overdue(
                    len(rows),
                    listed,
                    max(len(rows) - LISTED, 0),
                    f"{deps.panel_url}/queue?status=overdue",
                ),
                dedupe_key=run_key,
            )
            await uow.commit()
        return Outcome(rows=len(rows), detail=f"{len(rows)} overdue case(s) reminded")

    return await run_once(deps, "sla_reminders", run_key, body, now)


async def weekly_digest_job(deps: JobDeps, now: datetime | None = None) -> RunResult:
    """The last seven days in numbers, to the staff chat."""
    now = now or deps.clock()
    year, week, _ = deps.local_time(now).isocalendar()
    run_key = f"weekly_digest:{year}-W{week:02d}"

    async def body() -> Outcome:
        if not deps.staff_chat_id:
            return Outcome(detail="no staff chat configured (PIKIR_TELEGRAM__STAFF_CHAT_ID)")
        since = now - timedelta(days=7)
        window = [Feedback.created_at >= since, Feedback.created_at < now]
        async with UnitOfWork(deps.database.sessions) as uow:
            counts = (
                await uow.session.execute(
                    select(
                        func.count(),
                        func.count(Feedback.rating),
                        func.coalesce(func.sum(case((Feedback.rating >= 4, 1), else_=0)), 0),
                    ).where(*window)
                )
            ).one()
            tags = effective_tags(None, window)
            tag_counts = (
                await uow.session.execute(
                    select(*(func.coalesce(func.sum(tags.c[name]), 0) for name in TAGS))
                )
            ).one()
            opened = await uow.session.scalar(
                select(func.count()).select_from(Case).where(Case.opened_at >= since)
            )
            closed = await uow.session.scalar(
                select(func.count()).select_from(Case).where(Case.closed_at >= since)
            )
            overdue = await uow.session.scalar(
                select(func.count())
                .select_from(Case)
                .where(Case.status.in_(OPEN), Case.due_at < now)
            )
            responses, rated, good = (int(v or 0) for v in counts)
            csat = Share(good, rated)
            small = responses < deps.figures.min_cell
            # A small week publishes only the mark, as the reports do: no count, share or tag.
            shown = f"n < {deps.figures.min_cell}" if small else str(responses)
            texts = StaffTexts(deps.staff_language)
            lines = [
                texts.digest_title(f"{deps.local_time(now):%Y-%m-%d}"),
                texts.digest_responses(shown),
            ]
            if not small and rated >= deps.figures.min_cell and csat.value is not None:
                low, high = csat.interval
                lines.append(texts.digest_csat(csat.value, low, high))
            if not small:
                top = sorted(
                    zip(TAGS, (int(v or 0) for v in tag_counts), strict=True), key=lambda x: -x[1]
                )
                named = ", ".join(f"{tag} {count}" for tag, count in top if count)
                lines.append(texts.digest_tags(named or "-"))
            lines.append(texts.digest_cases(opened or 0, closed or 0))
            lines.append(texts.digest_overdue(overdue or 0))
            uow.outbox.enqueue(
                channel=Channel.TELEGRAM,
                address=deps.staff_chat_id,
                kind="digest",
                text="\n".join(lines),
                dedupe_key=run_key,
            )
            await uow.commit()
        return Outcome(rows=responses, detail=f"{responses} response(s) in the week")

    return await run_once(deps, "weekly_digest", run_key, body, now)
