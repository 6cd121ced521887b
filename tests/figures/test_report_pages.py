"""The report pages through the aiohttp test client: roles, numbers equal to the exports,
drill-down links, downloads, escaping and the job runs page."""

from __future__ import annotations

import io
import json
import random
import re
from pathlib import Path

import openpyxl
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher
from sqlalchemy import select

from admin.app import create_admin_app
from admin.figures.indicators import FiguresConfig
from admin.figures.service import refresh
from admin.jobs.deps import JobDeps
from admin.reports import ReportDeps, setup_reports
from admin.reports.view_model import percent
from bot.main import month_closer
from bot.settings import ReportSettings
from storage.database import Database
from storage.models import AuditEntry, StaffRole
from storage.repositories.audit import AuditFilter
from storage.uow import UnitOfWork
from tests.configs import panel_config
from tests.figures.factory import insert_specs, random_spec

PASSWORD = "a long enough password"
# Real argon2id with cheap parameters: the login test hashes and verifies for real.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
CONFIG = FiguresConfig(ReportSettings(min_cell=10, ethics_targets={2026: 0.78}))


async def make_app(database: Database, reports_dir: Path) -> web.Application:
    app = web.Application()
    config = panel_config(reports_dir.parent)
    admin = create_admin_app(database, config, hasher=CHEAP_HASHER)
    jobs = JobDeps(database=database, reports=CONFIG.reports, data_dir=reports_dir.parent)
    setup_reports(
        admin,
        ReportDeps(
            database=database,
            figures=CONFIG,
            reports_dir=reports_dir,
            close_month=month_closer(jobs),
        ),
    )
    app.add_subapp("/admin", admin)
    return app


async def seed(database: Database) -> None:
    """Staff of every role and a month of feedback, one office with a scripted name."""
    async with UnitOfWork(database.sessions) as uow:
        for role in StaffRole:
            uow.staff.add(login=role.value, password_hash=CHEAP_HASHER.hash(PASSWORD), role=role)
        office = (await uow.reference.offices())[0]
        office.name_ru = "<script>alert(1)</script> ЦОН"
        await uow.commit()
    rng = random.Random(7)
    specs = []
    for index in range(300):
        spec = random_spec(rng, offices=6)
        spec.month = "2026-09" if index < 240 else "2026-08"
        spec.office = 5 if index < 4 else index % 5
        specs.append(spec)
    await insert_specs(database, specs)
    await refresh(database, everything=True)


class BrowsersByRole:
    """One logged-in browser per role, chosen by the ``X-Test-Staff`` header of a request.

    Every request goes through the panel's real login and session; the header only says which
    staff member's browser sends it (no header: a browser that never logged in).
    """

    def __init__(self, server) -> None:
        self.server = server
        self.browsers: dict[str, TestClient] = {}

    async def browser(self, role: str) -> TestClient:
        if role not in self.browsers:
            browser = TestClient(self.server)
            await browser.start_server()
            if role:
                await log_in(browser, role)
            self.browsers[role] = browser
        return self.browsers[role]

    async def request(self, method: str, url: str, headers=None, **kwargs):
        headers = dict(headers or {})
        browser = await self.browser(headers.pop("X-Test-Staff", ""))
        return await browser.request(method, url, headers=headers, **kwargs)

    async def get(self, url: str, **kwargs):
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs):
        return await self.request("POST", url, **kwargs)

    async def close(self) -> None:
        for browser in self.browsers.values():
            await browser.close()


async def log_in(browser: TestClient, login: str, password: str = PASSWORD) -> None:
    """Log in through the panel's form (CSRF token included)."""
    import re

    page = await browser.get("/admin/login")
    match = re.search(r'name="csrf" value="([^"]+)"', await page.text())
    assert match is not None
    response = await browser.post(
        "/admin/login",
        data={"login": login, "password": password, "csrf": match.group(1)},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()


@pytest.fixture
async def client(database: Database, tmp_path: Path):
    await seed(database)
    server = TestServer(await make_app(database, tmp_path / "reports"), host="127.0.0.1")
    await server.start_server()
    browsers = BrowsersByRole(server)
    yield browsers
    await browsers.close()
    await server.close()


def as_(role: str) -> dict[str, str]:
    return {"X-Test-Staff": role}


async def test_roles(client) -> None:
    anonymous = await client.get("/admin/reports", allow_redirects=False)
    assert anonymous.status == 303
    for role, status in (
        ("reviewer", 403),
        ("anticorruption", 403),
        ("analyst", 200),
        ("admin", 200),
    ):
        response = await client.get("/admin/reports?month=2026-09", headers=as_(role))
        assert response.status == status, role
    assert (await client.get("/admin/reports/jobs", headers=as_("analyst"))).status == 403
    assert (await client.get("/admin/reports/jobs", headers=as_("admin"))).status == 200


async def test_page_numbers_match_the_export(client) -> None:
    page = await (await client.get("/admin/reports?month=2026-09", headers=as_("analyst"))).text()
    exported = await client.get(
        "/admin/reports/export?month=2026-09&format=json", headers=as_("analyst")
    )
    records = json.loads(await exported.text())
    country = records[0]
    assert f'<span id="responses">{country["responses"]}</span>' in page
    row = re.search(r'<tr data-key="csat">.*?class="num share">([^<]+)<', page, re.S)
    assert row and row.group(1) == percent(country["csat"])
    assert f"{percent(country['csat_low'])}–{percent(country['csat_high'])}" in page
    for office in (r for r in records if r["level"] == "office"):
        cell = re.search(rf'<tr data-office="{office["office"]}">(.*?)</tr>', page, re.S)
        assert cell, office["office"]
        if office["suppressed"]:
            assert "n &lt; 10" in cell.group(1)
        else:
            assert percent(office["csat"]) in cell.group(1)
    xlsx = await client.get(
        "/admin/reports/export?month=2026-09&format=xlsx&language=en", headers=as_("analyst")
    )
    sheet = openpyxl.load_workbook(io.BytesIO(await xlsx.read()))["Country"]
    values = dict(zip([c.value for c in sheet[1]], [c.value for c in sheet[2]], strict=True))
    assert percent(values["CSAT (share rating 4–5)"]) == row.group(1)
    assert values["Responses"] == country["responses"]
    assert "<svg" in page and page.count('role="img"') >= 4
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


async def test_drill_down_links_only_for_roles_that_see_cases(client) -> None:
    admin = await (await client.get("/admin/reports?month=2026-09", headers=as_("admin"))).text()
    analyst = await (
        await client.get("/admin/reports?month=2026-09", headers=as_("analyst"))
    ).text()
    period = "/admin/queue?status=all&amp;from=2026-09-01&amp;to=2026-09-30"
    assert f"{period}&amp;tag=corruption" in admin
    assert re.search(re.escape(period) + r"&amp;region=\w+&amp;office=", admin)
    assert "/admin/queue" not in analyst


async def test_xlsx_and_row_downloads(client) -> None:
    response = await client.get(
        "/admin/reports/export?month=2026-09&format=xlsx&language=kk", headers=as_("analyst")
    )
    assert response.status == 200
    book = openpyxl.load_workbook(io.BytesIO(await response.read()))
    assert book.sheetnames[-2:] == ["Индикаторлар", "Түсініктеме"]
    rows = await client.get("/admin/reports/feedback.csv?month=2026-09", headers=as_("analyst"))
    text = await rows.text()
    header = text.splitlines()[0].split(",")
    assert "text" not in header and "ref" not in header and "date" in header
    assert len(text.splitlines()) == 241
    assert "some words" not in text


async def test_bad_input_is_refused(client) -> None:
    for query in ("month=2026-13", "month=x", "period=decade", "format=exe"):
        response = await client.get(f"/admin/reports/export?{query}", headers=as_("analyst"))
        assert response.status == 400, query
    for name in ("..%2Fsecret_key", "pikir-2026-10.xlsx", "other.xlsx"):
        response = await client.get(f"/admin/reports/packs/{name}", headers=as_("analyst"))
        assert response.status == 404, name


async def test_packs_listed_and_downloadable(client, tmp_path: Path) -> None:
    directory = tmp_path / "reports"
    directory.mkdir()
    (directory / "pikir-2026-09.xlsx").write_bytes(b"PK\x03\x04 not really")
    listing = await (await client.get("/admin/reports/packs", headers=as_("analyst"))).text()
    assert "pikir-2026-09.xlsx" in listing
    file = await client.get("/admin/reports/packs/pikir-2026-09.xlsx", headers=as_("analyst"))
    assert file.status == 200 and (await file.read()).startswith(b"PK")


async def test_an_administrator_closes_a_month_from_the_packs_page(
    client, database: Database, tmp_path: Path
) -> None:
    analyst = await (await client.get("/admin/reports/packs", headers=as_("analyst"))).text()
    assert "packs/close" not in analyst
    page = await (await client.get("/admin/reports/packs", headers=as_("admin"))).text()
    assert '<option value="2026-09">' in page and '<option value="2026-08">' in page
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token is not None
    refused = await client.post(
        "/admin/reports/packs/close",
        data={"month": "2026-09", "csrf": token.group(1)},
        headers=as_("analyst"),
        allow_redirects=False,
    )
    assert refused.status == 403
    closed = await client.post(
        "/admin/reports/packs/close",
        data={"month": "2026-09", "resend": "1", "csrf": token.group(1)},
        headers=as_("admin"),
    )
    assert closed.status == 200
    listing = await closed.text()
    assert "Месяц 2026-09 закрыт." in listing
    assert '<a href="packs/pikir-2026-09.xlsx">' in listing
    assert (tmp_path / "reports" / "pikir-2026-09.xlsx").is_file()
    future = await client.post(
        "/admin/reports/packs/close",
        data={"month": "2999-01", "csrf": token.group(1)},
        headers=as_("admin"),
    )
    assert "Закрыть можно только завершившийся месяц." in await future.text()
    assert not (tmp_path / "reports" / "pikir-2999-01.xlsx").exists()
    async with UnitOfWork(database.sessions) as uow:
        entries = await uow.audit.entries(AuditFilter(action="report.month_close"))
    assert [(e.actor_login, e.target_id) for e in entries] == [("admin", "2026-09")]
    assert entries[0].after == {
        "resend": True,
        "outcome": "ok",
        "detail": entries[0].after["detail"],
    }
    assert "pikir-2026-09.xlsx" in entries[0].after["detail"]


async def test_empty_database_month_shows_the_page(client) -> None:
    response = await client.get("/admin/reports?month=2019-01&period=year", headers=as_("admin"))
    assert response.status == 200
    assert "–" in await response.text()


async def test_page_shows_new_figures_after_a_refresh(client, database: Database) -> None:
    url = "/admin/reports?month=2026-09"
    first = await (await client.get(url, headers=as_("analyst"))).text()
    assert '<span id="responses">240</span>' in first
    spec = random_spec(random.Random(1))
    spec.month = "2026-09"
    await insert_specs(database, [spec])
    unchanged = await (await client.get(url, headers=as_("analyst"))).text()
    assert '<span id="responses">240</span>' in unchanged  # the aggregates were not refreshed
    await refresh(database, month="2026-09")
    second = await (await client.get(url, headers=as_("analyst"))).text()
    assert '<span id="responses">241</span>' in second


async def test_a_wrong_password_does_not_reach_the_reports(client) -> None:
    browser = await client.browser("")
    page = await browser.get("/admin/login")
    assert page.status == 200
    response = await browser.post(
        "/admin/login",
        data={"login": "analyst", "password": "wrong", "csrf": "x"},
        allow_redirects=False,
    )
    assert response.status != 303
    dashboard = await browser.get("/admin/reports?month=2026-09", allow_redirects=False)
    assert dashboard.status == 303


async def test_small_cells_show_only_the_mark_on_the_page(client) -> None:
    page = await (await client.get("/admin/reports?month=2026-09", headers=as_("analyst"))).text()
    records = json.loads(
        await (
            await client.get(
                "/admin/reports/export?month=2026-09&format=json", headers=as_("analyst")
            )
        ).text()
    )
    hidden = [r for r in records if r["level"] == "office" and r["suppressed"]]
    assert len(hidden) >= 2  # the office with 4 responses and its complement
    for office in hidden:
        cell = re.search(rf'<tr data-office="{office["office"]}">(.*?)</tr>', page, re.S)
        assert cell, office["office"]
        numbers = re.findall(r'<td class="num[^"]*">([^<]*)</td>', cell.group(1))
        assert numbers == ["", "n &lt; 10", "n &lt; 10", ""], numbers
    bases = re.search(r"<p id=\"bases\">(.*?)</p>", page, re.S)
    assert bases and "включая прямые сообщения" in bases.group(1)  # the analyst reads Russian


async def test_internal_page_is_for_administrators_and_audited(client, database) -> None:
    url = "/admin/reports/internal?month=2026-09"
    assert (await client.get(url, headers=as_("analyst"))).status == 403
    response = await client.get(url, headers=as_("admin"))
    assert response.status == 200
    page = await response.text()
    assert 'id="internal-notice"' in page
    small = re.search(r'<tr data-office="[^"]+">(?:(?!</tr>).)*?<td class="num">4</td>', page, re.S)
    assert small, "the office with 4 responses shows its number internally"
    assert "n &lt; 10" not in re.search(r'id="offices-table".*?</table>', page, re.S).group(0)
    published = await (
        await client.get("/admin/reports?month=2026-09", headers=as_("admin"))
    ).text()
    assert 'id="internal-notice"' not in published and "/admin/reports/internal?" in published
    async with UnitOfWork(database.sessions) as uow:
        query = select(AuditEntry).where(AuditEntry.action == "reports.internal_view")
        views = list((await uow.session.scalars(query)).all())
    assert len(views) == 1 and views[0].actor_login == "admin"
    assert views[0].target_id == "2026-09/month"
