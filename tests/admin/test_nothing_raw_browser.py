"""The panel in Chromium in Russian and Kazakh: periods, audit actions with before → after,
job runs and the time zone in words, never codes (screenshots in test-artifacts/)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import select

from storage.models import Case, CaseStatus, Language
from storage.uow import UnitOfWork
from tests.admin.demo_site import PASSWORD, DemoSite

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
WORDS = {
    "ru": {
        "periods": ["Месяц", "Квартал", "Год"],
        "action": "Изменил статус обращения",
        "change": "Статус: Дан ответ → На рассмотрении",
        "job": "Обновление показателей",
        "zone": "Время указано в часовом поясе агентства, UTC+05:00.",
    },
    "kk": {
        "periods": ["Ай", "Тоқсан", "Жыл"],
        "action": "Өтініш мәртебесін өзгертті",
        "change": "Мәртебе: Жауап берілді → Қаралуда",
        "job": "Көрсеткіштерді жаңарту",
        "zone": "Уақыт агенттіктің сағат белдеуімен көрсетілген, UTC+05:00.",
    },
}


async def _answered_then_reopened(site: DemoSite) -> None:
    """An administrator answers an open case and then moves it back, through the panel."""
    async with UnitOfWork(site.database.sessions) as uow:
        case = await uow.session.scalar(
            select(Case).where(Case.status == CaseStatus.IN_REVIEW).order_by(Case.id).limit(1)
        )
        assert case is not None
        case_id = case.id
    client = await site.browser("admin")
    for form in (
        {"reply": "Проверили, спасибо."},
        {"status": "in_review", "back": "1", "reason": "Гражданин написал снова"},
    ):
        page = await (await client.get(f"/admin/cases/{case_id}")).text()
        version = re.search(r'name="version" value="(\d+)"', page)
        token = _CSRF.search(page)
        assert version is not None and token is not None
        action = "reply" if "reply" in form else "status"
        response = await client.post(
            f"/admin/cases/{case_id}/{action}",
            data={**form, "csrf": token.group(1), "version": version.group(1)},
            allow_redirects=False,
        )
        assert response.status == 303, await response.text()


@pytest.mark.e2e
@pytest.mark.parametrize("language", ["ru", "kk"])
async def test_pages_in_words_not_codes(
    site: DemoSite, chromium: Browser, artifacts_dir: Path, language: str
) -> None:
    await _answered_then_reopened(site)
    async with UnitOfWork(site.database.sessions) as uow:
        admin = await uow.staff.by_login("admin")
        assert admin is not None
        admin.language = Language(language)
        await uow.commit()
    base = str(site.server.make_url("/admin"))
    context = await chromium.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.fill("input[name=login]", "admin")
    await page.fill("input[name=password]", PASSWORD)
    async with page.expect_navigation():
        await page.locator("form:has(input[name=password]) button[type=submit]").click()
    words = WORDS[language]

    await page.goto(f"{base}/reports?month=2026-10")
    periods = page.locator("select[name=period] option")
    assert [text.strip() for text in await periods.all_inner_texts()] == words["periods"]
    await expect(page.locator("footer.zone")).to_have_text(words["zone"])
    await page.screenshot(path=str(artifacts_dir / f"reports-{language}.png"), full_page=True)

    await page.goto(f"{base}/audit")
    row = page.locator("table.audit tbody tr", has_text=words["action"]).first
    await expect(row.locator("td.changes")).to_contain_text(words["change"])
    assert "case.status" not in await page.locator("table.audit").inner_text()
    assert "{" not in await page.locator("table.audit").inner_text()  # no raw JSON
    await page.screenshot(path=str(artifacts_dir / f"audit-{language}.png"), full_page=True)

    await page.goto(f"{base}/reports/jobs")
    table = page.locator("#runs")
    await expect(table).to_contain_text(words["job"])
    assert "aggregate" not in await table.inner_text()
    await page.screenshot(path=str(artifacts_dir / f"jobs-{language}.png"), full_page=True)
    await context.close()
