"""The figures' jobs: refresh the changed aggregate cells, and on the 1st close the previous
month and send the M&E pack (XLSX + summary) to subscribed staff through the outbox."""

from __future__ import annotations

from datetime import datetime

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
            overlap=deps.refresh_overlap,
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


async def close_month_job(deps: JobDeps, now: datetime | None = None) -> RunResult:
    """Close the previous month: final refresh, the XLSX pack on disk, the pack to subscribers."""
    now = now or deps.clock()
    month = shift_month(deps.local_time(now).strftime("%Y-%m"), -1)

    async def body() -> Outcome:
        await refresh(deps.database, month=month, now=now)
        async with UnitOfWork(deps.database.sessions) as uow:
            report = await build_report(uow, month, deps.figures)
            names = await reference_names(uow, deps.report_language)
        deps.reports_dir.mkdir(parents=True, exist_ok=True)
        path = deps.reports_dir / pack_name(month)
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(render(report, "xlsx", deps.report_language, names))
        temporary.replace(path)  # readers never see half a file
        summary = summary_text(report)
        path.with_suffix(".txt").write_text(summary, encoding="utf-8")
        async with UnitOfWork(deps.database.sessions) as uow:
            subscribers = await uow.staff.report_subscribers()
            for staff in subscribers:
                uow.outbox.enqueue(
                    channel=Channel.TELEGRAM,
                    address=staff.telegram_chat_id or "",
                    kind="report",
                    text=summary,
                    payload={"document_path": str(path.resolve()), "month": month},
                    dedupe_key=f"report:{month}:{staff.id}",
                )
            await uow.commit()
        return Outcome(
            rows=len(subscribers), detail=f"{path.name}; sent to {len(subscribers)} staff"
        )

    return await run_once(deps, "month_close", f"month_close:{month}", body, now)
