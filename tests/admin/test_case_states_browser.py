"""The case status form in Chromium: "no change" by default, a move back only when asked for
explicitly with a reason, and the move recorded from → to."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from storage.models import CaseStatus, StaffRole
from storage.uow import UnitOfWork
from tests.admin.conftest import PASSWORD, Panel


@pytest.mark.e2e
async def test_status_form_never_moves_a_case_back_by_accident(
    panel: Panel, chromium: Browser, artifacts_dir: Path
) -> None:
    await panel.add_staff("dana", StaffRole.ADMIN)
    case = await panel.add_case()
    base = str(panel.server.make_url("/admin"))
    context = await chromium.new_context(viewport={"width": 1280, "height": 1000}, locale="en-US")
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.fill("input[name=login]", "dana")
    await page.fill("input[name=password]", PASSWORD)
    async with page.expect_navigation():
        await page.locator("form:has(input[name=password]) button[type=submit]").click()
    await page.goto(f"{base}/cases/{case.id}")
    # Answer the citizen: the case is answered.
    await page.fill("textarea[name=reply]", "Мы проверили и разобрались.")
    await page.get_by_role("button", name="Send reply").click()
    status_form = page.locator("form.status-form")
    await expect(page.locator("h1")).to_contain_text("Answered")
    # The form offers "No change" first and chosen.
    select = status_form.locator("select[name=status]")
    assert await select.input_value() == ""
    assert (await select.locator("option:checked").inner_text()).strip() == "No change"
    # A reason typed and the button pressed as the form comes: nothing changes.
    await status_form.locator("textarea[name=reason]").fill("looked at it")
    await status_form.get_by_role("button", name="Change status").click()
    await expect(page.locator(".flash-error")).to_have_text(
        "Nothing was changed: choose a new status."
    )
    await expect(page.locator("h1")).to_contain_text("Answered")
    # Choosing the move back without ticking the box: refused, the reason kept.
    await status_form.locator("select[name=status]").select_option("in_review")
    await status_form.get_by_role("button", name="Change status").click()
    await expect(page.locator(".flash-error")).to_contain_text("Move the case back")
    assert await status_form.locator("textarea[name=reason]").input_value() == "looked at it"
    # Explicitly: chosen, ticked, with a reason.
    await status_form.locator("select[name=status]").select_option("in_review")
    await status_form.locator("input[name=back]").check()
    await status_form.locator("textarea[name=reason]").fill("The citizen wrote again")
    await status_form.get_by_role("button", name="Change status").click()
    await expect(page.locator("h1")).to_contain_text("In review")
    await expect(page.locator(".history .event-status").last).to_contain_text(
        "Status: Answered → In review"
    )
    await page.screenshot(path=str(artifacts_dir / "case-status-moved-back.png"), full_page=True)
    async with UnitOfWork(panel.database.sessions) as uow:
        stored = await uow.cases.get(case.id)
        assert stored is not None and stored.status == CaseStatus.IN_REVIEW
    await context.close()
