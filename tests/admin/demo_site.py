"""The whole staff panel (cases and reports) on demo feedback, with one staff member per role.

The feedback is what ``pikir demo`` generates, tagged by the shipped classifier, with the
aggregates refreshed; the tests log in through the real login form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher
from sqlalchemy import func, select

from admin.app import create_admin_app
from admin.figures.indicators import FiguresConfig
from admin.figures.service import refresh
from admin.jobs.deps import JobDeps
from admin.jobs.figures_jobs import close_month_job, refresh_aggregates_job
from admin.jobs.notices import weekly_digest_job
from admin.jobs.retention import retention_job
from admin.jobs.retraining import retrain_job
from admin.reports import ReportDeps, setup_reports
from bot.demo import generate_demo
from bot.settings import ReportSettings
from bot.tagging import ClassifierTagger
from storage.database import Database
from storage.models import Case, Feedback, Language, Office, StaffRole
from storage.uow import UnitOfWork
from tests.configs import panel_config

PASSWORD = "a long enough password"
HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
# Months of the demo: 2026-09, 2026-10 and the current 2026-11.
MONTHS = 3
FIGURES = FiguresConfig(ReportSettings(min_cell=5, ethics_targets={2026: 0.78}))
DISPLAY_NAMES = {
    StaffRole.ADMIN: "Асель Нурланова",
    StaffRole.REVIEWER: "Ерлан Сапаров",
    StaffRole.ANTICORRUPTION: "Дина Ахметова",
    StaffRole.ANALYST: "Марат Жумабаев",
}
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass(frozen=True)
class DemoSite:
    """The running panel and what the tests need to know about its data."""

    database: Database
    server: TestServer
    reviewer_region: str
    other_regions: tuple[str, ...]
    clients: list[TestClient[Any, Any]] = field(default_factory=list)

    async def browser(self, login: str, language: str = "en") -> TestClient[Any, Any]:
        """A browser logged in as ``login`` whose pages are in ``language``."""
        client: TestClient[Any, Any] = TestClient(self.server)
        await client.start_server()
        self.clients.append(client)
        page = await client.get("/admin/login")
        match = _CSRF.search(await page.text())
        assert match is not None
        response = await client.post(
            "/admin/login",
            data={"login": login, "password": PASSWORD, "csrf": match.group(1)},
            allow_redirects=False,
        )
        assert response.status == 303, await response.text()
        async with UnitOfWork(self.database.sessions) as uow:
            user = await uow.staff.by_login(login)
            assert user is not None
            user.language = Language(language)
            await uow.commit()
        return client

    async def close(self) -> None:
        """Close the browsers (closing one closes the shared server too, so last)."""
        for client in self.clients:
            await client.close()
        await self.server.close()


async def fill_demo(database: Database, directory: Path) -> tuple[str, tuple[str, ...]]:
    """Demo feedback, fresh aggregates, the scheduled jobs run once (so their page and the
    previous month's pack exist) and one staff member per role (logins: role names).

    Returns the reviewer's region and the other regions.
    """
    tagger = ClassifierTagger.load(None)
    assert tagger is not None, "the shipped classifier could not be loaded"
    await generate_demo(database, months=MONTHS, per_month=90, seed=11, tagger=tagger, now=NOW)
    await refresh(database, everything=True, now=NOW)
    deps = JobDeps(
        database=database, reports=FIGURES.reports, data_dir=directory, clock=lambda: NOW
    )
    for job in (refresh_aggregates_job, close_month_job, weekly_digest_job, retention_job):
        assert (await job(deps)).outcome == "ok"
    assert (await retrain_job(deps)).outcome == "ok"
    async with UnitOfWork(database.sessions) as uow:
        regions = sorted({office.region_code for office in await uow.reference.offices()})
        # The reviewer works the region with the most cases, so their pages have some to show.
        mine = await uow.session.scalar(
            select(Office.region_code)
            .join(Feedback, Feedback.office_id == Office.id)
            .join(Case, Case.feedback_id == Feedback.id)
            .group_by(Office.region_code)
            .order_by(func.count(Case.id).desc(), Office.region_code)
            .limit(1)
        )
        assert mine is not None, "the demo opened no case"
        for role in StaffRole:
            user = uow.staff.add(
                login=role.value,
                password_hash=HASHER.hash(PASSWORD),
                role=role,
                regions=[mine] if role == StaffRole.REVIEWER else [],
                display_name=DISPLAY_NAMES[role],
            )
            user.language = Language.EN
        await uow.commit()
    return mine, tuple(region for region in regions if region != mine)


def demo_app(database: Database, directory: Path) -> web.Application:
    """The panel as the service mounts it: ``/admin`` with the report pages."""
    root = web.Application()
    config = panel_config(directory, page_size=20)
    admin = create_admin_app(database, config, hasher=HASHER, clock=lambda: NOW)
    setup_reports(
        admin, ReportDeps(database=database, figures=FIGURES, reports_dir=directory / "reports")
    )
    root.add_subapp("/admin", admin)
    return root


async def running_demo_site(database: Database, data_dir: Path) -> DemoSite:
    """The demo data loaded into ``database`` and the panel serving it on a loopback port
    (close it with :meth:`DemoSite.close`)."""
    mine, others = await fill_demo(database, data_dir)
    server = TestServer(demo_app(database, data_dir), host="127.0.0.1")
    await server.start_server()
    return DemoSite(database, server, mine, others)
