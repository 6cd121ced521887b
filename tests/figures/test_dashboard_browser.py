"""The dashboard in a real browser (Debian's Chromium driven by Playwright), with a screenshot."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser

from storage.database import Database
from tests.figures.test_report_pages import PASSWORD, make_app, seed


@pytest.mark.e2e
@pytest.mark.parametrize("backend", ["sqlite"])
async def test_dashboard_in_chromium(
    aiohttp_server, database: Database, tmp_path: Path, artifacts_dir: Path, chromium: Browser
) -> None:
    await seed(database)
    server = await aiohttp_server(await make_app(database, tmp_path), host="127.0.0.1")
    url = f"http://127.0.0.1:{server.port}/admin/reports?month=2026-09"
    context = await chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on(
        "response",
        lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    # Through the panel's real login form, as the M&E officer would.
    await page.goto(f"http://127.0.0.1:{server.port}/admin/login")
    await page.fill("input[name=login]", "admin")
    await page.fill("input[name=password]", PASSWORD)
    async with page.expect_navigation():
        await page.locator("form:has(input[name=password]) button[type=submit]").click()
    assert "/login" not in page.url, await page.content()
    response = await page.goto(url)
    assert response is not None and response.status == 200
    # The administrator's panel language (Russian, the default) is the page's language.
    assert await page.title() == "Показатели удовлетворённости 2026-09 · Pikir"
    assert await page.locator("h2#offices").inner_text() == "Рейтинг ЦОН"
    # Styled by the panel's stylesheet: nothing inline for the CSP to refuse.
    assert (
        await page.evaluate("getComputedStyle(document.querySelector('.chart')).display") == "flex"
    )
    responses = await page.locator("#responses").inner_text()
    assert int(responses) == 240
    charts = page.locator("figure[role=img] svg")
    assert await charts.count() == 4
    for index in range(4):
        box = await charts.nth(index).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100
    # Every chart has its numbers in a table for screen readers.
    assert await page.locator("#trend-table tbody tr").count() == 12
    assert await page.locator("#offices-table tbody tr").count() == 6
    # Drill-down from the tag chart: its bars are links to the filtered case queue.
    links = page.locator("figure svg a")
    assert await links.count() > 0
    href = await links.first.get_attribute("xlink:href") or await links.first.get_attribute("href")
    assert href is not None and "/admin/queue?status=all&from=" in href
    # The office with 4 responses (and its complement) shows only the mark, no number.
    hidden = page.locator("#offices-table tbody tr", has_text="n < 10")
    assert await hidden.count() >= 2
    for index in range(await hidden.count()):
        cells = await hidden.nth(index).locator("td.num").all_inner_texts()
        assert [c.strip() for c in cells] == ["", "n < 10", "n < 10", ""], cells
    assert await page.locator("#bases").is_visible()
    await page.screenshot(path=str(artifacts_dir / "reports-dashboard.png"), full_page=True)
    # The month form reloads the page for another month.
    await page.fill("input[name=month]", "2026-08")
    await page.click("form.report-filter button")
    await page.wait_for_url("**month=2026-08**")
    assert int(await page.locator("#responses").inner_text()) == 60
    assert errors == [], errors
    await context.close()
