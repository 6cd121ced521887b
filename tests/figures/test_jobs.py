"""The scheduled jobs with a controlled clock: month close, reminders, digest, retention,
retraining, run records, and the misfire policy of the real APScheduler."""

from __future__ import annotations

import asyncio
import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import func, select

from admin.jobs import register_jobs
from admin.jobs.deps import CorrectedExample, JobDeps
from admin.jobs.figures_jobs import (
    MonthNotOver,
    close_month_job,
    close_month_now,
    refresh_aggregates_job,
)
from admin.jobs.notices import sla_reminders_job, weekly_digest_job
from admin.jobs.retention import JOB_RUNS_KEPT, retention_job
from admin.jobs.retraining import retrain_job
from bot.settings import ReportSettings, RetentionSettings, SchedulerSettings, TelegramSettings
from storage.database import Database
from storage.models import (
    Attachment,
    Case,
    CaseStatus,
    Channel,
    Conversation,
    Feedback,
    JobRun,
    MonthlyAggregate,
    OutboxMessage,
    StaffRole,
)
from storage.uow import UnitOfWork
from tests.figures.factory import insert_specs, random_spec

ALMATY = ZoneInfo("Asia/Almaty")
FIRST_OF_NOVEMBER = datetime(2026, 11, 1, 0, 30, tzinfo=ALMATY)


def make_deps(
    database: Database, data_dir: Path, now: datetime, *, staff_language: str = "ru", **kw
) -> JobDeps:
    return JobDeps(
        database=database,
        reports=ReportSettings(ethics_targets={2026: 0.78}),
        data_dir=data_dir,
        telegram=TelegramSettings(staff_chat_id="-100200", staff_language=staff_language),
        clock=lambda: now,
        **kw,
    )


async def _october(database: Database, count: int = 120) -> None:
    rng = random.Random(1)
    specs = []
    for _ in range(count):
        spec = random_spec(rng)
        spec.month = "2026-10"
        specs.append(spec)
    await insert_specs(database, specs)


async def _subscribers(database: Database) -> None:
    async with UnitOfWork(database.sessions) as uow:
        for login, chat, subscribed in (
            ("me1", "555", True),
            ("me2", "556", False),
            ("me3", None, True),
        ):
            user = uow.staff.add(login=login, password_hash="x", role=StaffRole.ANALYST)
            user.telegram_chat_id = chat
            user.subscribed_reports = subscribed
        await uow.commit()


async def _runs(database: Database, job: str) -> list[JobRun]:
    async with UnitOfWork(database.sessions) as uow:
        return list(await uow.job_runs.recent(job=job))


async def _outbox(database: Database, kind: str) -> list[OutboxMessage]:
    async with UnitOfWork(database.sessions) as uow:
        query = select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        return list((await uow.session.scalars(query)).all())


async def test_month_close_on_the_first_sends_the_pack_once(
    database: Database, tmp_path: Path
) -> None:
    await _october(database)
    await _subscribers(database)
    result = await close_month_job(make_deps(database, tmp_path, FIRST_OF_NOVEMBER))
    assert result.ran and result.outcome == "ok", result.detail

    pack = tmp_path / "reports" / "pikir-2026-10.xlsx"
    book = openpyxl.load_workbook(pack)
    assert book["Страна"].cell(2, book["Страна"].max_column).value is not None
    sent = await _outbox(database, "report")
    assert [m.address for m in sent] == ["555"]  # subscribed and with a chat
    assert sent[0].payload == {"document_path": str(pack.resolve()), "month": "2026-10"}
    assert "Ответов: 120" in sent[0].text
    async with UnitOfWork(database.sessions) as uow:
        stored = await uow.session.scalar(
            select(func.sum(MonthlyAggregate.responses)).where(MonthlyAggregate.month == "2026-10")
        )
    assert stored == 120

    # Back after downtime on the 3rd: the same month, already closed: nothing happens twice.
    later = await close_month_job(
        make_deps(database, tmp_path, FIRST_OF_NOVEMBER + timedelta(days=2))
    )
    assert not later.ran
    assert len(await _outbox(database, "report")) == 1
    (run,) = await _runs(database, "month_close")
    assert run.run_key == "month_close:2026-10" and run.outcome == "ok" and run.rows == 1
    assert run.finished_at is not None


async def test_closing_a_month_by_hand_is_idempotent_and_can_resend(
    database: Database, tmp_path: Path
) -> None:
    await _october(database)
    await _subscribers(database)
    deps = make_deps(database, tmp_path, FIRST_OF_NOVEMBER + timedelta(days=5))
    with pytest.raises(MonthNotOver):
        await close_month_now(deps, "2026-11")

    first = await close_month_now(deps, "2026-10")
    assert first.outcome == "ok" and first.rows == 1
    assert (tmp_path / "reports" / "pikir-2026-10.xlsx").is_file()
    again = await close_month_now(deps, "2026-10")
    assert again.outcome == "ok" and again.rows == 0
    assert len(await _outbox(database, "report")) == 1
    resent = await close_month_now(deps, "2026-10", resend=True)
    assert resent.rows == 1
    assert [m.address for m in await _outbox(database, "report")] == ["555", "555"]
    # The scheduled run of the 1st finds the month closed already.
    assert not (await close_month_job(make_deps(database, tmp_path, FIRST_OF_NOVEMBER))).ran
    keys = [run.run_key for run in await _runs(database, "month_close")]
    assert keys[-1] == "month_close:2026-10" and len(keys) == 3


async def test_failed_run_is_recorded_and_claimed_again(database: Database, tmp_path: Path) -> None:
    calls: list[int] = []

    def broken(extra, now):
        calls.append(len(extra))
        raise RuntimeError("model store unavailable")

    now = datetime(2026, 11, 22, 3, 0, tzinfo=ALMATY)
    failed = await retrain_job(make_deps(database, tmp_path, now, retrainer=broken))
    assert failed.outcome == "failed" and "model store unavailable" in (failed.detail or "")
    fixed = await retrain_job(
        make_deps(database, tmp_path, now, retrainer=lambda extra, now: "kept")
    )
    assert fixed.outcome == "ok" and fixed.detail == "kept"
    (run,) = await _runs(database, "retrain")
    assert run.outcome == "ok" and calls == [0]


async def test_retraining_gets_staff_corrected_examples(database: Database, tmp_path: Path) -> None:
    rng = random.Random(4)
    specs = [random_spec(rng) for _ in range(3)]
    for spec in specs:
        spec.has_text, spec.staff_tags = True, []
        spec.model_tags = {"delay": True, "rudeness": False}
    specs[0].staff_tags = [("rudeness", True), ("delay", False)]
    specs[1].staff_tags = [("corruption", True)]
    ids = await insert_specs(database, specs)
    async with UnitOfWork(database.sessions) as uow:  # corrected, but its text was erased
        erased = await uow.session.get(Feedback, ids[1])
        assert erased is not None
        erased.text = None
        await uow.commit()
    seen: list[CorrectedExample] = []

    def fake(extra, now):
        seen.extend(extra)
        return f"candidate trained on {len(extra)}; not promoted"

    result = await retrain_job(make_deps(database, tmp_path, FIRST_OF_NOVEMBER, retrainer=fake))
    assert result.outcome == "ok" and result.rows == 1
    assert [(e.id, e.labels) for e in seen] == [(f"feedback-{ids[0]}", ("rudeness",))]
    assert (await _runs(database, "retrain"))[0].detail == "candidate trained on 1; not promoted"


async def test_sla_reminders_hourly_without_repeating(database: Database, tmp_path: Path) -> None:
    rng = random.Random(8)
    specs = [random_spec(rng) for _ in range(4)]
    for spec in specs:
        spec.case_status = CaseStatus.NEW
    specs[3].case_status = CaseStatus.RESOLVED
    ids = await insert_specs(database, specs)
    now = datetime(2026, 11, 23, 10, 5, tzinfo=ALMATY)
    async with UnitOfWork(database.sessions) as uow:
        cases = (await uow.session.scalars(select(Case).where(Case.feedback_id.in_(ids)))).all()
        for case in cases:
            overdue = case.feedback_id != ids[2]
            case.due_at = now - timedelta(hours=1) if overdue else now + timedelta(hours=5)
        await uow.commit()
    first = await sla_reminders_job(make_deps(database, tmp_path, now))
    assert first.rows == 2  # two open overdue; the resolved one and the not-yet-due one are not
    (message,) = await _outbox(database, "sla_reminder")
    assert message.address == "-100200" and "Просрочено обращений: 2" in message.text
    assert "some words" not in message.text  # no citizen text in the staff chat
    again = await sla_reminders_job(make_deps(database, tmp_path, now + timedelta(hours=1)))
    assert again.rows == 0  # reminded within the last day
    later = await sla_reminders_job(make_deps(database, tmp_path, now + timedelta(hours=25)))
    assert later.rows == 3  # the two again, and the one that fell due meanwhile


async def test_month_pack_and_summary_publish_only_the_mark_for_small_cells(
    database: Database, tmp_path: Path
) -> None:
    await _october(database, count=7)  # fewer than 10 in the whole month
    await _subscribers(database)
    result = await close_month_job(make_deps(database, tmp_path, FIRST_OF_NOVEMBER))
    assert result.ran and result.outcome == "ok", result.detail
    (sent,) = await _outbox(database, "report")
    assert "Ответов: n < 10" in sent.text
    assert not any(char.isdigit() for char in sent.text.split("Ответов:")[1].replace("10", ""))
    book = openpyxl.load_workbook(tmp_path / "reports" / "pikir-2026-10.xlsx")
    for name in ("Страна", "Регион", "ЦОН", "Услуга"):
        sheet = book[name]
        headers = [cell.value for cell in sheet[1]]
        for row in sheet.iter_rows(min_row=2, values_only=True):
            record = dict(zip(headers, row, strict=True))
            assert record["Ответы"] == "n < 10", (name, record)
            numbers = [v for v in row if isinstance(v, int | float) and not isinstance(v, bool)]
            assert numbers == [], (name, record)


@pytest.mark.parametrize("size", [30, 200])
async def test_weekly_digest(database: Database, tmp_path: Path, size: int) -> None:
    rng = random.Random(2)
    specs = [random_spec(rng) for _ in range(size)]
    await insert_specs(database, specs)
    now = datetime(2026, 10, 8, 9, 0, tzinfo=ALMATY)
    async with UnitOfWork(database.sessions) as uow:
        in_week = await uow.session.scalar(
            select(func.count())
            .select_from(Feedback)
            .where(Feedback.created_at >= now - timedelta(days=7), Feedback.created_at < now)
        )
    result = await weekly_digest_job(make_deps(database, tmp_path, now))
    assert result.rows == in_week
    (message,) = await _outbox(database, "digest")
    if in_week < 10:  # a small week publishes nothing but the mark
        assert "Ответов: n < 10" in message.text
        assert "Теги" not in message.text and "CSAT" not in message.text
    else:
        assert f"Ответов: {in_week}" in message.text and "Теги: " in message.text
    assert (await _runs(database, "weekly_digest"))[0].run_key == "weekly_digest:2026-W41"


async def test_retention_erases_old_text_and_files_but_keeps_figures(
    database: Database, tmp_path: Path
) -> None:
    rng = random.Random(6)
    specs = [random_spec(rng) for _ in range(20)]
    for spec in specs:
        spec.has_text = True
    ids = await insert_specs(database, specs)
    upload = tmp_path / "uploads" / "photo.jpg"
    upload.parent.mkdir()
    upload.write_bytes(b"jpeg")
    async with UnitOfWork(database.sessions) as uow:
        uow.session.add(
            Attachment(
                feedback_id=ids[0],
                location=str(upload),
                created_at=datetime(2026, 8, 2, tzinfo=UTC),
            )
        )
        await uow.commit()
    deps = make_deps(
        database, tmp_path, datetime(2026, 9, 15, tzinfo=UTC), retention=RetentionSettings(days=30)
    )
    await refresh_aggregates_job(deps)
    async with UnitOfWork(database.sessions) as uow:
        before = (
            await uow.session.execute(
                select(MonthlyAggregate.month, func.sum(MonthlyAggregate.with_text)).group_by(
                    MonthlyAggregate.month
                )
            )
        ).all()
    result = await retention_job(deps)
    assert result.outcome == "ok"
    async with UnitOfWork(database.sessions) as uow:
        rows = (
            await uow.session.execute(
                select(Feedback.month, Feedback.text, Feedback.has_text, Feedback.text_erased_at)
            )
        ).all()
        attachment = await uow.session.scalar(select(Attachment))
    cutoff_month = {"2026-08"}  # created before 2026-08-16 are erased
    erased = [r for r in rows if r.text is None]
    assert erased and all(r.has_text and r.text_erased_at is not None for r in erased)
    assert all(r.month in cutoff_month for r in erased)
    assert all(r.text is not None for r in rows if r.month in {"2026-09", "2026-10"})
    assert (
        attachment is not None and attachment.erased_at is not None and attachment.location is None
    )
    assert not upload.exists()
    # The figures are untouched, and a refresh after the erasure still gives the same numbers.
    await refresh_aggregates_job(
        make_deps(database, tmp_path, datetime(2026, 9, 15, 0, 20, tzinfo=UTC))
    )
    async with UnitOfWork(database.sessions) as uow:
        after = (
            await uow.session.execute(
                select(MonthlyAggregate.month, func.sum(MonthlyAggregate.with_text)).group_by(
                    MonthlyAggregate.month
                )
            )
        ).all()
    assert sorted(after) == sorted(before)


async def test_retention_removes_photo_files_nothing_refers_to_any_more(
    database: Database, tmp_path: Path
) -> None:
    """Files of feedback erased before erasure removed files (the row says erased, the file
    stayed) go; a live photo, a photo in a draft and a fresh upload stay."""
    now = datetime(2026, 9, 15, tzinfo=UTC)
    ids = await insert_specs(database, [random_spec(random.Random(8)) for _ in range(2)])
    web = tmp_path / "uploads" / "web"
    telegram = tmp_path / "uploads" / "telegram"
    web.mkdir(parents=True)
    telegram.mkdir(parents=True)
    files = {
        name: folder / f"{name}.jpg"
        for name, folder in (
            ("erased_web", web),
            ("erased_telegram", telegram),
            ("live", web),
            ("draft", web),
            ("fresh", web),
        )
    }
    old = (now - timedelta(days=3)).timestamp()
    for name, path in files.items():
        path.write_bytes(b"jpeg")
        if name != "fresh":
            os.utime(path, (old, old))
    async with UnitOfWork(database.sessions) as uow:
        uow.session.add_all(
            [
                # Erased by /erase before files were removed: the location was blanked.
                Attachment(feedback_id=ids[0], location=None, erased_at=now - timedelta(days=2)),
                Attachment(
                    feedback_id=ids[1],
                    location="uploads/web/live.jpg",
                    created_at=now - timedelta(days=3),
                ),
                Conversation(
                    channel=Channel.WEB,
                    chat_key="k" * 64,
                    step="text",
                    data={"draft": {"photos": [{"file_ref": "uploads/web/draft.jpg"}]}},
                ),
            ]
        )
        await uow.commit()
    await refresh_aggregates_job(make_deps(database, tmp_path, now))
    before = await _with_text(database)

    result = await retention_job(
        make_deps(database, tmp_path, now, retention=RetentionSettings(days=30))
    )
    assert result.outcome == "ok" and "2 forgotten photo file(s) removed" in (result.detail or "")
    assert not files["erased_web"].exists() and not files["erased_telegram"].exists()
    assert files["live"].exists() and files["draft"].exists() and files["fresh"].exists()
    await refresh_aggregates_job(make_deps(database, tmp_path, now + timedelta(minutes=20)))
    assert await _with_text(database) == before


async def _with_text(database: Database) -> list[tuple[str, int, int]]:
    async with UnitOfWork(database.sessions) as uow:
        rows = await uow.session.execute(
            select(
                MonthlyAggregate.month,
                func.sum(MonthlyAggregate.responses),
                func.sum(MonthlyAggregate.with_text),
            )
            .group_by(MonthlyAggregate.month)
            .order_by(MonthlyAggregate.month)
        )
        return [(row[0], int(row[1]), int(row[2])) for row in rows]


def test_register_jobs_sets_schedules_and_misfire_policy(tmp_path: Path) -> None:
    scheduler = AsyncIOScheduler(timezone="Asia/Almaty")
    schedules = SchedulerSettings(aggregate="*/5 * * * *", misfire_grace_seconds=600)
    deps = JobDeps(database=None, data_dir=tmp_path, schedules=schedules)  # type: ignore[arg-type]
    ids = register_jobs(scheduler, deps)
    assert ids == [
        "aggregate",
        "month_close",
        "sla_reminders",
        "weekly_digest",
        "retrain",
        "retention",
        "purge",
    ]
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert str(jobs["aggregate"].trigger.fields[6]) == "*/5"  # minute field
    assert jobs["aggregate"].misfire_grace_time == 600
    assert jobs["month_close"].misfire_grace_time == 3 * 24 * 3600
    assert all(job.coalesce is True and job.max_instances == 1 for job in jobs.values())
    fire = jobs["month_close"].trigger.get_next_fire_time(
        None, datetime(2026, 11, 2, tzinfo=ALMATY)
    )
    assert fire == datetime(2026, 12, 1, 0, 30, tzinfo=ALMATY)


async def _run_scheduled(
    schedulers: list[AsyncIOScheduler], job_id: str, next_run: datetime, expect: int
) -> list[int]:
    """Start the schedulers with ``job_id`` due at ``next_run``; wait for ``expect`` events."""
    events: list[int] = []
    done = asyncio.Event()

    def listener(event) -> None:
        if event.job_id == job_id:
            events.append(event.code)
            if len(events) >= expect:
                done.set()

    for scheduler in schedulers:
        scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED | EVENT_JOB_ERROR)
        for job in scheduler.get_jobs():
            if job.id != job_id:
                job.pause()
        scheduler.modify_job(job_id, next_run_time=next_run)
    for scheduler in schedulers:
        scheduler.start()
    try:
        await asyncio.wait_for(done.wait(), timeout=30)
        for _ in range(20):  # let an uncoalesced backlog surface too
            await asyncio.sleep(0)
    finally:
        for scheduler in schedulers:
            scheduler.shutdown(wait=False)
    return events


async def test_two_schedulers_run_the_month_close_once(
    database_url: str, tmp_path: Path, database: Database
) -> None:
    await _october(database, 30)
    await _subscribers(database)
    other = Database(database_url)  # a second process: its own engine and pool
    try:
        schedulers = []
        for db in (database, other):
            scheduler = AsyncIOScheduler(timezone="Asia/Almaty")
            register_jobs(scheduler, make_deps(db, tmp_path, FIRST_OF_NOVEMBER))
            schedulers.append(scheduler)
        events = await _run_scheduled(schedulers, "month_close", datetime.now(ALMATY), expect=2)
    finally:
        await other.dispose()
    assert events == [EVENT_JOB_EXECUTED, EVENT_JOB_EXECUTED]  # both fired...
    assert len(await _runs(database, "month_close")) == 1  # ...one ran
    assert len(await _outbox(database, "report")) == 1


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(
    ("crontab", "coalesce", "grace", "expected"),
    [
        ("*/15 * * * *", True, 3600, 1),  # eight slots missed, folded into one run
        ("*/15 * * * *", False, 3600, 4),  # without coalescing: the four within the grace time
        ("0 0 1 1 *", True, 60, 0),  # the one missed run is two hours late: beyond grace
    ],
)
async def test_misfire_after_downtime(
    database: Database, tmp_path: Path, crontab: str, coalesce: bool, grace: int, expected: int
) -> None:
    """Down for two hours: with coalesce the missed refreshes run once; beyond grace, none."""
    scheduler = AsyncIOScheduler(timezone="Asia/Almaty")
    schedules = SchedulerSettings(aggregate=crontab, coalesce=coalesce, misfire_grace_seconds=grace)
    register_jobs(scheduler, make_deps(database, tmp_path, FIRST_OF_NOVEMBER, schedules=schedules))
    start = datetime.now(ALMATY).replace(second=0, microsecond=0) - timedelta(hours=2)
    start -= timedelta(minutes=start.minute % 15)
    events = await _run_scheduled([scheduler], "aggregate", start, expect=max(expected, 1))
    executed = events.count(EVENT_JOB_EXECUTED)
    if expected == 0:
        assert executed == 0 and EVENT_JOB_MISSED in events
    else:
        assert abs(executed - expected) <= (0 if coalesce else 1)


async def test_retention_forgets_job_runs_older_than_a_year_and_a_bit(
    database: Database, tmp_path: Path
) -> None:
    now = datetime(2026, 9, 15, tzinfo=UTC)
    async with UnitOfWork(database.sessions) as uow:
        for key, age in (
            ("refresh:old", JOB_RUNS_KEPT + timedelta(days=1)),
            ("refresh:new", timedelta(days=1)),
        ):
            uow.session.add(
                JobRun(
                    job="refresh_aggregates",
                    run_key=key,
                    started_at=now - age,
                    finished_at=now - age,
                    outcome="ok",
                )
            )
        await uow.commit()
    result = await retention_job(make_deps(database, tmp_path, now))
    assert result.outcome == "ok"
    async with UnitOfWork(database.sessions) as uow:
        keys = set(await uow.session.scalars(select(JobRun.run_key)))
    assert keys == {"refresh:new", "retention:2026-09-15"}


async def test_the_monthly_pack_has_no_formula_from_a_hostile_office_name(
    database: Database, tmp_path: Path
) -> None:
    from tests.figures.test_exports import HOSTILE_NAMES, assert_no_formula

    await _october(database)
    async with UnitOfWork(database.sessions) as uow:
        offices = list(await uow.reference.offices(active_only=False))
        for office, name in zip(offices, HOSTILE_NAMES, strict=False):
            office.name_ru = name
        await uow.commit()
    result = await close_month_job(make_deps(database, tmp_path, FIRST_OF_NOVEMBER))
    assert result.ran and result.outcome == "ok", result.detail
    escaped = assert_no_formula((tmp_path / "reports" / "pikir-2026-10.xlsx").read_bytes())
    assert HOSTILE_NAMES[0] in escaped


@pytest.mark.parametrize(
    ("language", "responses", "cases"),
    [("kk", "Жауаптар: ", "Ашылған өтініштер: "), ("en", "Responses: ", "Cases opened: ")],
)
async def test_the_staff_chat_texts_are_in_its_configured_language(
    database: Database, tmp_path: Path, language: str, responses: str, cases: str
) -> None:
    rng = random.Random(2)
    await insert_specs(database, [random_spec(rng) for _ in range(200)])
    now = datetime(2026, 10, 8, 9, 0, tzinfo=ALMATY)
    await weekly_digest_job(make_deps(database, tmp_path, now, staff_language=language))
    (message,) = await _outbox(database, "digest")
    assert responses in message.text and cases in message.text
    assert "Ответов" not in message.text and "%(" not in message.text
