"""Every link and GET form of the panel, followed as each role on demo data: none is broken,
and none shown to a role leads to a page that role may not open (a 403 fails too)."""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import select

from admin.jobs.deps import JobDeps
from admin.jobs.notices import sla_reminders_job
from bot.settings import HttpSettings, TelegramSettings
from storage.models import Case, OutboxMessage
from storage.uow import UnitOfWork
from tests.admin.crawler import crawl, page_kind
from tests.admin.demo_site import FIGURES, NOW, DemoSite

CASES = {"/admin/queue", "/admin/cases/N"}
REPORTS = {
    "/admin/reports",
    "/admin/reports/export",
    "/admin/reports/feedback.csv",
    "/admin/reports/packs",
    "/admin/reports/packs/pikir-N-N.xlsx",
}
ADMINISTRATION = {
    "/admin/users",
    "/admin/users/N",
    "/admin/users/new",
    "/admin/offices",
    "/admin/offices/N",
    "/admin/offices/N/poster",
    "/admin/offices/N/poster.pdf",
    "/admin/offices/N/qr.png",
    "/admin/offices/N/qr.svg",
    "/admin/services",
    "/admin/services/N",
    "/admin/audit",
    "/admin/reports/jobs",
}
# The kinds of pages each role must reach by following links from the home page.
REACHED = {
    "admin": CASES | REPORTS | ADMINISTRATION | {"/admin/cases/N/original"},
    "reviewer": CASES,
    "anticorruption": CASES | {"/admin/cases/N/original"},
    "analyst": REPORTS,
}


@pytest.mark.parametrize("role", sorted(REACHED))
async def test_every_link_leads_somewhere(site: DemoSite, role: str) -> None:
    browser = await site.browser(role)
    visits = await crawl(browser)
    broken = [(v.status, v.url, v.referrer) for v in visits if v.status >= 400]
    assert broken == [], broken[:20]
    kinds = {page_kind(v.url) for v in visits}
    assert REACHED[role] <= kinds, REACHED[role] - kinds
    if role != "admin":  # nothing of the administrators' pages is even shown
        assert not kinds & ADMINISTRATION


def _tab_count(html: str, status: str) -> int:
    match = re.search(rf'data-status="{status}" [^>]*>[^<]*<span class="count">(\d+)</span>', html)
    assert match is not None, f"no {status} tab"
    return int(match.group(1))


async def test_a_dashboard_figure_drills_down_to_the_same_cases(site: DemoSite) -> None:
    browser = await site.browser("admin")
    dashboard = await (await browser.get("/admin/reports?month=2026-10&period=quarter")).text()
    # A tag's cell: its count and its link to the queue.
    cells = re.findall(
        r'<tr data-tag="(\w+)"><th scope="row"><a href="([^"]+)">[^<]*</a></th>'
        r'<td class="num count">(\d+)</td>',
        dashboard,
    )
    tag, link, count = max(cells, key=lambda cell: int(cell[2]))
    assert int(count) > 0
    link = html.unescape(link)
    assert link.startswith("/admin/queue?")
    query = dict(parse_qsl(urlsplit(link).query))
    # The quarter up to October: August to October, every status.
    assert query == {"status": "all", "from": "2026-08-01", "to": "2026-10-31", "tag": tag}
    queue = await (await browser.get(link)).text()
    assert _tab_count(queue, "all") == int(count)
    # The queue shows the filters as set.
    assert re.search(rf'<option value="{tag}" selected>', queue)
    assert 'name="from" value="2026-08-01"' in queue and 'name="to" value="2026-10-31"' in queue
    assert re.search(r'data-status="all" href="[^"]*" aria-current="page"', queue)
    # The cases opened in the period, and an office's cases, likewise.
    opened = re.search(r'<a href="([^"]+)" id="cases-opened">(\d+)</a>', dashboard)
    assert opened is not None
    queue = await (await browser.get(html.unescape(opened.group(1)))).text()
    assert _tab_count(queue, "all") == int(opened.group(2)) > 0
    # A service's cases likewise, on the administrators' internal view: the demo's service
    # cells are small, and a published small cell shows the mark, not a count.
    dashboard = await (
        await browser.get("/admin/reports/internal?month=2026-10&period=quarter")
    ).text()
    services = re.findall(
        r'<tr data-service="([\w-]+)">.*?<td class="num cases"><a href="([^"]+)">(\d+)</a>',
        dashboard,
        re.S,
    )
    assert services, "no service cell is published"
    service, link, count = max(services, key=lambda cell: int(cell[2]))
    queue = await (await browser.get(html.unescape(link))).text()
    assert _tab_count(queue, "all") == int(count)
    assert re.search(rf'<option value="{service}" selected>', queue)
    office = re.search(r'<tr data-office="([\w-]+)">.*?<a href="([^"]+)">', dashboard, re.S)
    assert office is not None
    queue = await (await browser.get(html.unescape(office.group(2)))).text()
    assert re.search(rf'<option value="{office.group(1)}" selected>', queue)


async def test_the_overdue_reminder_links_to_the_overdue_cases(site: DemoSite) -> None:
    deps = JobDeps(
        database=site.database,
        reports=FIGURES.reports,
        data_dir=Path("."),
        telegram=TelegramSettings(staff_chat_id="-100200"),
        http=HttpSettings(public_url=str(site.server.make_url("/"))),
        clock=lambda: NOW,
    )
    result = await sla_reminders_job(deps)
    assert result.outcome == "ok" and result.rows > 0
    async with UnitOfWork(site.database.sessions) as uow:
        message = await uow.session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "sla_reminder")
        )
    assert message is not None
    link = re.search(r"http://\S+", message.text)
    assert link is not None
    browser = await site.browser("admin")
    response = await browser.get(urlsplit(link.group(0)).path + "?" + urlsplit(link.group(0)).query)
    assert response.status == 200
    page = await response.text()
    assert re.search(r'data-status="overdue" href="[^"]*" aria-current="page"', page)
    assert _tab_count(page, "overdue") == result.rows


async def test_a_reviewer_chooses_and_counts_within_their_regions(site: DemoSite) -> None:
    async with UnitOfWork(site.database.sessions) as uow:
        offices = await uow.reference.offices()
        mine = {o.code for o in offices if o.region_code == site.reviewer_region}
        cases = (await uow.session.scalars(select(Case.region_code))).all()
    browser = await site.browser("reviewer")
    page = await (await browser.get("/admin/queue?status=all")).text()
    region_select = page[
        page.index('name="region"') : page.index("</select>", page.index('name="region"'))
    ]
    office_select = page[
        page.index('name="office"') : page.index("</select>", page.index('name="office"'))
    ]
    assert re.findall(r'<option value="([\w-]+)"', region_select) == [site.reviewer_region]
    assert set(re.findall(r'<option value="([\w-]+)"', office_select)) == mine
    assert _tab_count(page, "all") == cases.count(site.reviewer_region) > 0
    # Another region cannot be asked for by hand either.
    other = await browser.get(f"/admin/queue?region={site.other_regions[0]}")
    assert other.status == 400
    # The administrator chooses among all of them.
    admin = await (await (await site.browser("admin")).get("/admin/queue?status=all")).text()
    assert _tab_count(admin, "all") == len(cases)
    assert len(re.findall(r'<option value="[\w-]+"', admin)) > len(
        re.findall(r'<option value="[\w-]+"', page)
    )
