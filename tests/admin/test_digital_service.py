"""The seventh tag, ``digital_service``, in the panel: queue filter, case page, corrections,
who sees its cases and when they are overdue."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from storage.models import StaffRole, Tag, TagSource
from storage.uow import UnitOfWork
from tests.admin.conftest import Panel, csrf_of
from tests.admin.test_queue import case_ids
from vocabulary import LOW_RATING_PRIORITY, TAGS

EGOV = "ЭЦП не принимается на egov.kz, SMS код не приходит уже третий день"


async def test_it_flags_a_case_after_delay_with_its_own_sla(panel: Panel) -> None:
    now = panel.clock.now
    online = await panel.add_case(labels=("digital_service",), rating=4, text=EGOV)
    delay = await panel.add_case(labels=("delay",), rating=4, opened_at=now - timedelta(hours=2))
    low = await panel.add_case(labels=(), rating=1, opened_at=now - timedelta(days=3))
    assert online.priority == TAGS.index("digital_service") == 6
    assert online.priority > delay.priority and online.priority < low.priority
    assert low.priority == LOW_RATING_PRIORITY == 7
    assert online.due_at == online.opened_at + timedelta(hours=72)
    client = await panel.as_role(StaffRole.ADMIN)
    html = await (await client.get("/admin/queue")).text()
    assert case_ids(html) == [delay.id, online.id, low.id]
    assert "Online service failure" in html


async def test_the_region_reviewer_sees_it_and_the_anticorruption_unit_does_not(
    panel: Panel,
) -> None:
    case = await panel.add_case(labels=("digital_service",), text=EGOV)
    reviewer = await panel.as_role(StaffRole.REVIEWER, ("astana",))
    assert case.id in case_ids(await (await reviewer.get("/admin/queue")).text())
    assert (await reviewer.get(f"/admin/cases/{case.id}")).status == 200
    elsewhere = await panel.as_role(StaffRole.REVIEWER, ("almaty",))
    assert (await elsewhere.get(f"/admin/cases/{case.id}")).status == 403
    unit = await panel.as_role(StaffRole.ANTICORRUPTION)
    assert case.id not in case_ids(await (await unit.get("/admin/queue?status=all")).text())
    assert (await unit.get(f"/admin/cases/{case.id}")).status == 403


async def test_queue_filter_case_page_and_correction(panel: Panel) -> None:
    online = await panel.add_case(labels=("misinformation", "digital_service"), text=EGOV)
    other = await panel.add_case(labels=("misinformation",))
    client = await panel.as_role(StaffRole.ADMIN)
    queue = await (await client.get("/admin/queue")).text()
    assert re.search(r'<option value="digital_service"[^>]*>Online service failure<', queue)
    filtered = await (await client.get("/admin/queue?tag=digital_service")).text()
    assert case_ids(filtered) == [online.id]

    page = await (await client.get(f"/admin/cases/{other.id}")).text()
    assert 'name="tag_digital_service" value="1"' in page
    response = await client.post(
        f"/admin/cases/{other.id}/tags",
        data={"csrf": csrf_of(page), "version": str(other.version), "tag_digital_service": "1"},
        allow_redirects=False,
    )
    assert response.status == 303
    async with UnitOfWork(panel.database.sessions) as uow:
        stored = await uow.cases.get(other.id)
        assert stored is not None
        assert stored.labels == ",digital_service,misinformation,"
        staff = await uow.session.scalars(select(Tag).where(Tag.source == TagSource.STAFF))
        assert [(t.tag, t.present) for t in staff] == [("digital_service", True)]
    queue = await (await client.get("/admin/queue?tag=digital_service")).text()
    assert set(case_ids(queue)) == {online.id, other.id}


async def test_the_panel_names_it_in_kazakh_and_russian(panel: Panel) -> None:
    case = await panel.add_case(labels=("digital_service",), text=EGOV)
    client = await panel.as_role(StaffRole.ADMIN)
    for language, name in (("ru", "Сбой онлайн-услуги"), ("kk", "Онлайн қызмет ақауы")):
        html = await (await client.get("/admin/queue")).text()
        await client.post(
            "/admin/language",
            data={"csrf": csrf_of(html), "lang": language, "next": "/admin/queue"},
        )
        assert name in await (await client.get(f"/admin/cases/{case.id}")).text()
