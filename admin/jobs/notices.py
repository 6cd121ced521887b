"""Messages to the staff chat: hourly SLA reminders and the weekly digest.

Both go through the outbox and carry no personal data: case numbers, counts and shares only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from admin.figures.stats import Share
from admin.figures.week import week_figures
from admin.jobs.deps import JobDeps
from admin.jobs.runner import Outcome, RunResult, run_once
from admin.staff_texts import StaffTexts
from storage.models import Channel
from storage.uow import UnitOfWork

REMIND_AGAIN_AFTER = timedelta(hours=24)
LISTED = 20


async def sla_reminders_job(deps: JobDeps, now: datetime | None = None) -> RunResult:
    """Remind the staff chat of overdue open cases (each case at most once a day)."""
    now = now or deps.clock()
    slot = deps.local_time(now).strftime("%Y-%m-%dT%H")
    run_key = f"sla_reminders:{slot}"

    async def body() -> Outcome:
        if not deps.telegram.staff_chat_id:
            return Outcome(detail="no staff chat configured (PIKIR_TELEGRAM__STAFF_CHAT_ID)")
        async with UnitOfWork(deps.database.sessions) as uow:
            rows = await uow.cases.claim_overdue_for_reminder(now, REMIND_AGAIN_AFTER)
            if not rows:
                return Outcome(detail="no overdue cases")
            listed = ", ".join(f"#{row.id} ({row.region_code or '-'})" for row in rows[:LISTED])
            texts = StaffTexts(deps.telegram.staff_language)
            uow.outbox.enqueue(
                channel=Channel.TELEGRAM,
                address=deps.telegram.staff_chat_id,
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
        if not deps.telegram.staff_chat_id:
            return Outcome(detail="no staff chat configured (PIKIR_TELEGRAM__STAFF_CHAT_ID)")
        since = now - timedelta(days=7)
        async with UnitOfWork(deps.database.sessions) as uow:
            week = await week_figures(uow.session, since, now)
            opened = await uow.cases.opened_since(since)
            closed = await uow.cases.closed_since(since)
            overdue = await uow.cases.overdue_count(now)
            responses, rated, good = week.responses, week.rated, week.good
            csat = Share(good, rated)
            small = responses < deps.figures.min_cell
            # A small week publishes only the mark, as the reports do: no count, share or tag.
            shown = f"n < {deps.figures.min_cell}" if small else str(responses)
            texts = StaffTexts(deps.telegram.staff_language)
            lines = [
                texts.digest_title(f"{deps.local_time(now):%Y-%m-%d}"),
                texts.digest_responses(shown),
            ]
            if not small and rated >= deps.figures.min_cell and csat.value is not None:
                low, high = csat.interval
                lines.append(texts.digest_csat(csat.value, low, high))
            if not small:
                top = sorted(week.tags.items(), key=lambda x: -x[1])
                named = ", ".join(f"{tag} {count}" for tag, count in top if count)
                lines.append(texts.digest_tags(named or "-"))
            lines.append(texts.digest_cases(opened, closed))
            lines.append(texts.digest_overdue(overdue))
            uow.outbox.enqueue(
                channel=Channel.TELEGRAM,
                address=deps.telegram.staff_chat_id,
                kind="digest",
                text="\n".join(lines),
                dedupe_key=run_key,
            )
            await uow.commit()
        return Outcome(rows=responses, detail=f"{responses} response(s) in the week")

    return await run_once(deps, "weekly_digest", run_key, body, now)
