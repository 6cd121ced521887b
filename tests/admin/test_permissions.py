"""Every role against every page and action: allowed ones work, the others are 403 on the server.

One test per role walks the whole table (a fresh database each), so a handler that forgets its
guard shows up as a row in the failure message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import Attachment, Case, StaffRole
from storage.uow import UnitOfWork
from tests.admin.conftest import Panel, csrf_of

R, AC, AN, AD = (
    StaffRole.REVIEWER,
    StaffRole.ANTICORRUPTION,
    StaffRole.ANALYST,
    StaffRole.ADMIN,
)
OFFICE_CSV = (
    "code,region,name_kk,name_ru,name_en,address,active\n"
    "AST-90,astana,Жаңа ХҚКО,Новый ЦОН,New PSC,addr,true\n"
)
SERVICE_CSV = "code,category,name_kk,name_ru,name_en,has_standard\n"


@dataclass
class World:
    """The objects the table refers to."""

    own_case: int  # rudeness in Astana: the reviewer's region, not the anti-corruption unit's
    foreign_case: int  # corruption in Almaty: the anti-corruption unit's, not the reviewer's
    attachment: int  # a photo on the foreign case
    user: int
    office: int
    service: int


@pytest.fixture
async def world(panel: Panel, panel_config) -> World:
    own = await panel.add_case(office_code="AST-01", labels=("rudeness",))
    foreign = await panel.add_case(
        office_code="ALA-01", labels=("corruption",), text="Просили взятку 5000"
    )
    colleague = await panel.add_staff("colleague", R, ["astana", "almaty"])
    panel_config.uploads_dir.mkdir(parents=True, exist_ok=True)
    (panel_config.uploads_dir / "photo.jpg").write_bytes(b"\xff\xd8\xff fake jpeg")
    async with UnitOfWork(panel.database.sessions) as uow:
        item = Attachment(feedback_id=foreign.feedback_id, location="uploads/photo.jpg", size=13)
        uow.session.add(item)
        office = await uow.reference.office_by_code("AST-01")
        services = await uow.reference.services()
        await uow.commit()
    assert office is not None
    return World(own.id, foreign.id, item.id, colleague.id, office.id, services[0].id)


def _pages(w: World) -> list[tuple[str, set[StaffRole]]]:
    everyone_admin = {AD}
    return [
        ("/admin/queue", {R, AC, AD}),
        (f"/admin/cases/{w.own_case}", {R, AD}),
        (f"/admin/cases/{w.foreign_case}", {AC, AD}),
        (f"/admin/cases/{w.own_case}/original", {AD}),
        (f"/admin/cases/{w.foreign_case}/original", {AC, AD}),
        (f"/admin/attachments/{w.attachment}", {AC, AD}),
        ("/admin/users", everyone_admin),
        ("/admin/users/new", everyone_admin),
        (f"/admin/users/{w.user}", everyone_admin),
        ("/admin/offices", everyone_admin),
        (f"/admin/offices/{w.office}", everyone_admin),
        (f"/admin/offices/{w.office}/poster", everyone_admin),
        (f"/admin/offices/{w.office}/poster.pdf", everyone_admin),
        (f"/admin/offices/{w.office}/qr.png?target=web", everyone_admin),
        (f"/admin/offices/{w.office}/qr.svg?target=telegram", everyone_admin),
        ("/admin/services", everyone_admin),
        (f"/admin/services/{w.service}", everyone_admin),
        ("/admin/audit", everyone_admin),
    ]


def _case_actions(case_id: int, colleague: int) -> list[tuple[str, dict[str, Any]]]:
    # In an order that is valid from a new case: each one succeeds when allowed.
    base = f"/admin/cases/{case_id}"
    return [
        (base + "/tags", {"tag_delay": "1"}),
        (base + "/note", {"note": "checked the CCTV"}),
        (base + "/reply", {"reply": "We are sorry; the employee was warned."}),
        (base + "/assign", {"assignee": str(colleague)}),
        (base + "/status", {"status": "resolved", "reason": "warned"}),
    ]


def _admin_actions(w: World) -> list[tuple[str, dict[str, Any]]]:
    names = {"name_kk": "Атауы", "name_ru": "Название", "name_en": "Name"}
    return [
        ("/admin/users/new", {"login": "newbie", "role": "analyst", "language": "ru"}),
        (
            f"/admin/users/{w.user}",
            {"role": "reviewer", "regions": "astana", "language": "kk", "active": "1"},
        ),
        (f"/admin/users/{w.user}/password", {}),
        (f"/admin/offices/{w.office}", {**names, "region": "astana", "active": "1"}),
        (f"/admin/services/{w.service}", {**names, "category": "identity", "active": "1"}),
    ]


async def _version(panel: Panel, case_id: int) -> int:
    async with UnitOfWork(panel.database.sessions) as uow:
        return int(await uow.session.scalar(select(Case.version).where(Case.id == case_id)) or 0)


@pytest.mark.parametrize("role", [R, AC, AN, AD], ids=lambda r: r.value)
async def test_every_page_and_action_checks_the_role(
    panel: Panel, world: World, role: StaffRole
) -> None:
    client = await panel.as_role(role, regions=["astana"])
    token = csrf_of(await (await client.get("/admin/")).text())
    wrong: list[str] = []

    for path, allowed in _pages(world):
        response = await client.get(path, allow_redirects=False)
        expected = 200 if role in allowed else 403
        if response.status != expected:
            wrong.append(f"GET {path}: {response.status}, expected {expected}")

    for case_id, allowed in ((world.own_case, {R, AD}), (world.foreign_case, {AC, AD})):
        for path, data in _case_actions(case_id, world.user):
            form = {**data, "csrf": token, "version": str(await _version(panel, case_id))}
            before = await _version(panel, case_id)
            response = await client.post(path, data=form, allow_redirects=False)
            expected = 303 if role in allowed else 403
            if response.status != expected:
                wrong.append(f"POST {path}: {response.status}, expected {expected}")
            if expected == 403 and await _version(panel, case_id) != before:
                wrong.append(f"POST {path}: refused but the case changed")

    for path, data in _admin_actions(world):
        response = await client.post(path, data={**data, "csrf": token}, allow_redirects=False)
        ok = response.status in (200, 303)
        if ok != (role == AD):
            wrong.append(f"POST {path}: {response.status} for {role.value}")
    for kind, content in (("offices", OFFICE_CSV), ("services", SERVICE_CSV)):
        from aiohttp import FormData

        form = FormData()
        form.add_field("csrf", token)
        form.add_field("file", content.encode(), filename=f"{kind}.csv", content_type="text/csv")
        response = await client.post(f"/admin/{kind}/import", data=form, allow_redirects=False)
        if (response.status == 200) != (role == AD):
            wrong.append(f"POST /admin/{kind}/import: {response.status} for {role.value}")

    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("role", [R, AC, AN, AD], ids=lambda r: r.value)
async def test_home_leads_each_role_to_its_work(panel: Panel, role: StaffRole) -> None:
    client = await panel.as_role(role)
    response = await client.get("/admin/", allow_redirects=False)
    if role == AN:
        assert response.status == 200
        html = await response.text()
        assert "/admin/reports" in html and "/admin/queue" not in html
    else:
        assert response.status == 303
        assert response.headers["Location"] == "/admin/queue"


async def test_reviewer_queue_holds_only_their_regions(panel: Panel) -> None:
    await panel.add_case(office_code="AST-01", text="astana case")
    await panel.add_case(office_code="ALA-01", text="almaty case")
    client = await panel.as_role(R, regions=["astana"])
    html = await (await client.get("/admin/queue")).text()
    assert "astana case" in html and "almaty case" not in html


async def test_anticorruption_queue_holds_only_corruption_and_hidden_service(panel: Panel) -> None:
    await panel.add_case(labels=("corruption",), text="bribe case")
    await panel.add_case(labels=("hidden_service",), text="paid extra case")
    await panel.add_case(labels=("delay",), text="slow queue case")
    await panel.add_case(labels=(), direct=True, rating=None, text="direct report case")
    client = await panel.as_role(AC)
    html = await (await client.get("/admin/queue")).text()
    assert "bribe case" in html and "paid extra case" in html and "direct report case" in html
    assert "slow queue case" not in html


async def test_analyst_never_sees_free_text(panel: Panel) -> None:
    case = await panel.add_case(text="Secret complaint text")
    client = await panel.as_role(AN)
    for path in ("/admin/", "/admin/queue", f"/admin/cases/{case.id}"):
        html = await (await client.get(path)).text()
        assert "Secret complaint text" not in html


async def test_a_reviewer_cannot_assign_a_case_to_someone_outside_its_region(
    panel: Panel,
) -> None:
    case = await panel.add_case(office_code="AST-01")
    outsider = await panel.add_staff("outsider", R, ["almaty"])
    client = await panel.as_role(R, regions=["astana"])
    page = await (await client.get(f"/admin/cases/{case.id}")).text()
    response = await client.post(
        f"/admin/cases/{case.id}/assign",
        data={"csrf": csrf_of(page), "version": "1", "assignee": str(outsider.id)},
    )
    assert response.status == 400
    async with UnitOfWork(panel.database.sessions) as uow:
        stored = await uow.cases.get(case.id)
    assert stored is not None and stored.assignee_id is None
