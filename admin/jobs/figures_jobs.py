"""The figures' jobs: refresh the changed aggregate cells, and on the 1st close the previous
month and send the M&E pack (XLSX + summary) to subscribed staff through the outbox."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from admin.figures.exports import render
from admin.figures.report import Report, build_report, reference_names, shift_month
from admin.figures.service import refresh
from admin.jobs.deps import JobDeps
from admin.jobs.runner import Outcome, RunResult, run_once
from storage.models import Channel
from storage.uow import UnitOfWork


async def refresh_aggregates_job(deps: JobDeps, now: datetime | None = None) -> RunResult:
    """Refresh the aggregate cells changed since the last refresh."""
    now = now or deps.clock()
    slot = deps.local_time(now).strftime("%Y-%m-%dT%H:%M")

    async def body() -> Outcome:
        result = await refresh(
            deps.database,
            overlap=deps.reports.refresh_overlap,
            now=now,
        )
        return Outcome(rows=result.cells, detail="months: " + (", ".join(result.months) or "-"))

    return await run_once(deps, "aggregate", f"aggregate:{slot}", body, now)


def pack_name(month: str) -> str:
    """The file name of a month's M&E pack."""
    return f"pikir-{month}.xlsx"


def summary_text(report: Report) -> str:
    """A short plain-text summary of a month for the staff who receive the pack."""
    country = report.country
    if country.suppressed:
        # Nothing but the mark: a small month's counts could point at the few who answered.
        return "\n".join(
            [f"Pikir: итоги за {report.month}", f"Ответов: {country.mark}", "Цифры скрыты."]
        )
    lines = [f"Pikir: итоги за {report.month}", f"Ответов: {country.responses}"]
    csat = country.csat
    if csat.value is not None:
        lines.append(f"CSAT: {csat.value:.1%} (95% ДИ {csat.low:.1%}–{csat.high:.1%})")
    for result in report.indicators:
        if result.share.value is None or result.spec.key == "csat":
            continue
        target = f", цель {result.target:.0%}" if result.target is not None else ""
        lines.append(
            f"{result.spec.key}: {result.share.value:.1%} "
            f"({result.share.low:.1%}–{result.share.high:.1%}{target}; {result.status})"
        )
    lines.append(
        f"Жалоб: {country.count('complaints')}, обращений: {country.count('cases_opened')}"
    )
    return "\n".join(lines)


@dataclass(frozen=True)
class ClosedMonth:
    """A closed month: its pack on disk and how many staff it was (newly) sent to."""

    month: str
    path: Path
    sent: int


async def close_month(
    deps: JobDeps, month: str, now: datetime, *, send: bool = True, resend: bool = False
) -> ClosedMonth:
    """Final refresh of ``month``, its XLSX pack and summary on disk, the pack to subscribers.

    Idempotent: the pack is rewritten from the same rows, and a subscriber who was sent this
    month's pack is not sent it again, unless ``resend`` asks for a new delivery.
    """
    await refresh(deps.database, month=month, now=now)
    async with UnitOfWork(deps.database.sessions) as uow:
        report = await build_report(uow, month, deps.figures)
        names = await reference_names(uow, deps.report_language)
    deps.reports_dir.mkdir(parents=True, exist_ok=True)
    path = deps.reports_dir / pack_name(month)
    content = render(report, "xlsx", deps.report_language, names)
    summary = summary_text(report)
    _write_atomically(path, content)  # readers never see half a file
    _write_atomically(path.with_suffix(".txt"), summary.encode())
    if not send:
        return ClosedMonth(month, path, 0)
    sent = 0
    async with UnitOfWork(deps.database.sessions) as uow:
        for staff in await uow.staff.report_subscribers():
            key = f"report:{month}:{staff.id}"
            if await uow.outbox.has_dedupe_key(key):
                if not resend:
                    continue
                key = f"{key}:again:{_stamp(now)}"
            uow.outbox.enqueue(
                channel=Channel.TELEGRAM,
                address=staff.telegram_chat_id or "",
                kind="report",
                text=summary,
                payload={"document_path": str(path.resolve()), "month": month},
                dedupe_key=key,
            )
            sent += 1
        await uow.commit()
    return ClosedMonth(month, path, sent)


def _stamp(now: datetime) -> str:
    # A second request in the same instant is still a request of its own.
    return f"{now.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"


def _write_atomically(path: Path, content: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    temporary.write_bytes(content)
    temporary.replace(path)


async def close_month_job(deps: JobDeps, now: datetime | None = None) -> RunResult:
    """Close the previous month: final refresh, the XLSX pack on disk, the pack to subscribers."""
    now = now or deps.clock()
    month = shift_month(deps.local_time(now).strftime("%Y-%m"), -1)
    return await run_once(
        deps, "month_close", f"month_close:{month}", _close_body(deps, month, now), now
    )


class MonthNotOver(ValueError):
    """The month asked to be closed has not ended yet (in the agency's time zone)."""


async def close_month_now(
    deps: JobDeps, month: str, *, send: bool = True, resend: bool = False
) -> RunResult:
    """Close ``month`` on request (command line, panel, demo); recorded like the scheduled run.

    The first close of a month takes the scheduled run's key, so the job on the 1st finds it
    done; a later one is recorded under a key of its own.
    """
    now = deps.clock()
    if month >= deps.local_time(now).strftime("%Y-%m"):
        raise MonthNotOver(month)
    body = _close_body(deps, month, now, send=send, resend=resend)
    result = await run_once(deps, "month_close", f"month_close:{month}", body, now)
    if not result.ran:
        again = f"month_close:{month}:again:{_stamp(now)}"
        result = await run_once(deps, "month_close", again, body, now)
    return result


def _close_body(
    deps: JobDeps, month: str, now: datetime, *, send: bool = True, resend: bool = False
) -> Callable[[], Awaitable[Outcome]]:
    async def body() -> Outcome:
        closed = await close_month(deps, month, now, send=send, resend=resend)
        delivery = f"sent to {closed.sent} staff" if send else "not sent"
        return Outcome(rows=closed.sent, detail=f"{closed.path.name}; {delivery}")

    return body
