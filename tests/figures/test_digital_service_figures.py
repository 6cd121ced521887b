"""``digital_service`` in the M&E figures: its count and share with interval, the exports in
three languages, the dashboard and the weekly digest, with staff corrections counted."""

from __future__ import annotations

import io
import json
import random
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from admin.figures.exports import render
from admin.figures.indicators import FiguresConfig
from admin.figures.report import build_report
from admin.figures.service import refresh
from admin.figures.stats import Share
from admin.jobs.notices import weekly_digest_job
from admin.reports.view_model import dashboard_context
from bot.settings import ReportSettings
from storage.database import Database
from storage.uow import UnitOfWork
from tests.figures.factory import FeedbackSpec, insert_specs, random_spec
from tests.figures.test_jobs import _outbox, make_deps
from vocabulary import TAGS

CONFIG = FiguresConfig(ReportSettings(min_cell=10, ethics_targets={2026: 0.78}))


def _specs(month: str) -> list[FeedbackSpec]:
    """40 responses: 12 tagged by the model, of which staff removed 2 and added 1 more."""
    rng = random.Random(3)
    specs = []
    for index in range(40):
        spec = random_spec(rng)
        spec.month, spec.minute, spec.has_text = month, index * 60, True
        spec.model_tags = {tag: False for tag in TAGS}
        spec.model_tags["digital_service"] = index < 12
        spec.model_tags["misinformation"] = index % 4 == 0
        spec.staff_tags = []
        if index in (0, 1):
            spec.staff_tags = [("digital_service", False)]
        if index == 30:
            spec.staff_tags = [("digital_service", True)]
        specs.append(spec)
    return specs


async def test_count_share_and_interval_in_report_exports_and_dashboard(
    database: Database,
) -> None:
    await insert_specs(database, _specs("2026-09"))
    await refresh(database, everything=True)
    async with UnitOfWork(database.sessions) as uow:
        report = await build_report(uow, "2026-09", CONFIG)
    country = report.country
    assert country.responses == 40
    assert country.count("tag_digital_service") == 11  # 12 - 2 removed + 1 added by staff
    share = country.tag_share("digital_service")
    expected = Share(11, 40)
    assert share.value == pytest.approx(11 / 40)
    assert (share.low, share.high) == pytest.approx((expected.low, expected.high))
    assert share.low < 11 / 40 < share.high

    [record] = [r for r in json.loads(render(report, "json")) if r["level"] == "country"]
    assert record["tag_digital_service"] == 11
    csv_header = render(report, "csv").decode().splitlines()[0].split(",")
    assert "tag_digital_service" in csv_header
    for language, name in (("kk", "Онлайн қызмет ақауы"), ("ru", "Сбой онлайн-услуги")):
        book = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx", language)))
        cells = {str(c.value) for sheet in book for row in sheet.iter_rows() for c in row}
        assert name in cells, language

    context = dashboard_context(report, {}, "en", "/admin/queue")
    [tag] = [t for t in context["tags"] if t["code"] == "digital_service"]
    assert tag["name"] == "Online service failure" and tag["count"] == 11
    assert "tag=digital_service" in tag["link"]


async def test_the_weekly_digest_counts_it(database: Database, tmp_path: Path) -> None:
    await insert_specs(database, _specs("2026-10"))
    now = datetime(2026, 10, 8, 3, 0, tzinfo=ZoneInfo("Asia/Almaty"))  # the week holds all 40
    result = await weekly_digest_job(make_deps(database, tmp_path, now))
    assert result.rows == 40
    (message,) = await _outbox(database, "digest")
    assert "digital_service 11" in message.text
