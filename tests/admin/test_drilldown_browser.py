"""A dashboard figure clicked in Chromium opens the queue with the same filters set and as many
cases as the figure says (screenshots in test-artifacts/)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.admin.demo_site import PASSWORD, DemoSite


@pytest.mark.e2e
async def test_a_tag_figure_opens_its_cases(
    site: DemoSite, chromium: Browser, artifacts_dir: Path
) -> None:
    base = str(site.server.make_url("/admin"))
    context = await chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = await context.new_page()
    failures: list[str] = []
    page.on(
        "response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    await page.goto(f"{base}/login")
    await page.fill("input[name=login]", "admin")
    await page.fill("input[name=password]", PASSWORD)
    async with page.expect_navigation():
        await page.locator("form:has(input[name=password]) button[type=submit]").click()
    await page.goto(f"{base}/reports?month=2026-10")
    await page.select_option("select[name=period]", "quarter")
    async with page.expect_navigation():
        await page.click("form.report-filter button")
    # The tag with most cases in the quarter.
    rows = page.locator("#tags-table tbody tr")
    counts = [int(text) for text in await rows.locator("td.count").all_inner_texts()]
    row = rows.nth(counts.index(max(counts)))
    tag = await row.get_attribute("data-tag")
    assert max(counts) > 0 and tag
    async with page.expect_navigation():
        await row.locator("a").click()
    assert "/admin/queue?" in page.url
    # The queue shows the filters as set, and as many cases as the figure.
    await expect(page.locator("select[name=tag]")).to_have_value(tag)
    await expect(page.locator("input[name=from]")).to_have_value("2026-08-01")
    await expect(page.locator("input[name=to]")).to_have_value("2026-10-31")
    active = page.locator('nav.tabs a[aria-current="page"]')
    await expect(active).to_have_attribute("data-status", "all")
    assert int(await active.locator(".count").inner_text()) == max(counts)
    await page.screenshot(path=str(artifacts_dir / "drill-down-queue.png"), full_page=True)
    assert failures == [], failures
    await context.close()
