"""Administrator pages: staff accounts, offices and services, CSV import, QR posters, audit log."""

from __future__ import annotations

import base64
import io
import re
import zlib

import segno
from aiohttp import FormData
from PIL import Image
from sqlalchemy import select

from admin.posters import office_links
from storage.models import AuditEntry, Office, StaffRole, StaffUser
from storage.uow import UnitOfWork
from tests.admin.conftest import Panel, csrf_of


async def _token(client) -> str:
    return csrf_of(await (await client.get("/admin/users")).text())


async def _audit(panel: Panel, action: str) -> list[AuditEntry]:
    async with UnitOfWork(panel.database.sessions) as uow:
        return list(
            await uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )


async def test_create_account_shows_a_one_time_password_that_must_be_changed(
    panel: Panel,
) -> None:
    admin = await panel.as_role(StaffRole.ADMIN)
    response = await admin.post(
        "/admin/users/new",
        data={
            "csrf": await _token(admin),
            "login": "Dana.K",
            "display_name": "Dana K.",
            "role": "reviewer",
            "regions": ["astana", "abai"],
            "language": "kk",
        },
    )
    assert response.status == 200
    password = re.search(r'<code class="secret">([^<]+)</code>', await response.text())
    assert password is not None
    async with UnitOfWork(panel.database.sessions) as uow:
        user = await uow.staff.by_login("dana.k")
        assert user is not None
        assert user.region_codes == ["abai", "astana"] and user.must_change_password
        assert password.group(1) not in user.password_hash
    new_user = await panel.login("dana.k", password.group(1))
    assert (await new_user.get("/admin/queue", allow_redirects=False)).headers[
        "Location"
    ] == "/admin/password"
    [entry] = await _audit(panel, "user.create")
    assert entry.target_id == "dana.k" and entry.after == {
        "role": "reviewer",
        "regions": ["abai", "astana"],
    }


async def test_account_form_refuses_bad_input_clearly(panel: Panel) -> None:
    await panel.add_staff("taken", StaffRole.ANALYST)
    admin = await panel.as_role(StaffRole.ADMIN)
    token = await _token(admin)
    cases = [
        ({"login": "x", "role": "analyst"}, "A login has 2 to 64"),
        ({"login": "taken", "role": "analyst"}, "This login is taken."),
        ({"login": "rev", "role": "reviewer"}, "A reviewer needs at least one region."),
    ]
    for data, message in cases:
        response = await admin.post("/admin/users/new", data={**data, "csrf": token})
        assert response.status == 400
        assert message in await response.text()
    bad_region = await admin.post(
        "/admin/users/new",
        data={"csrf": token, "login": "ok", "role": "reviewer", "regions": "atlantis"},
    )
    assert bad_region.status == 400
    bad_role = await admin.post(
        "/admin/users/new", data={"csrf": token, "login": "ok", "role": "root"}
    )
    assert bad_role.status == 400


async def test_change_role_and_regions_and_reset_password(panel: Panel) -> None:
    user = await panel.add_staff("aigerim", StaffRole.REVIEWER, ["astana"])
    old_session = await panel.login("aigerim")
    admin = await panel.as_role(StaffRole.ADMIN)
    response = await admin.post(
        f"/admin/users/{user.id}",
        data={
            "csrf": await _token(admin),
            "role": "reviewer",
            "regions": ["almaty", "shymkent"],
            "language": "ru",
            "active": "1",
            "display_name": "Aigerim S.",
        },
        allow_redirects=False,
    )
    assert response.status == 303
    # Access changed: the open session ends.
    assert (await old_session.get("/admin/queue", allow_redirects=False)).status == 303
    [entry] = await _audit(panel, "user.update")
    assert entry.before is not None and entry.after is not None
    assert entry.before["regions"] == ["astana"]
    assert entry.after["regions"] == ["almaty", "shymkent"]
    reset = await admin.post(f"/admin/users/{user.id}/password", data={"csrf": await _token(admin)})
    assert reset.status == 200
    password = re.search(r'<code class="secret">([^<]+)</code>', await reset.text())
    assert password is not None
    await panel.login("aigerim", password.group(1))
    assert len(await _audit(panel, "user.reset_password")) == 1


async def test_an_admin_cannot_lock_themselves_out(panel: Panel) -> None:
    admin = await panel.as_role(StaffRole.ADMIN)
    async with UnitOfWork(panel.database.sessions) as uow:
        me = (await uow.staff.all())[0]
    response = await admin.post(
        f"/admin/users/{me.id}",
        data={"csrf": await _token(admin), "role": "analyst", "active": "1"},
    )
    assert response.status == 400
    async with UnitOfWork(panel.database.sessions) as uow:
        stored = await uow.session.get(StaffUser, me.id)
        assert stored is not None and stored.role == StaffRole.ADMIN


async def test_edit_an_office_and_see_it_audited(panel: Panel) -> None:
    admin = await panel.as_role(StaffRole.ADMIN)
    async with UnitOfWork(panel.database.sessions) as uow:
        office = await uow.reference.office_by_code("AST-01")
    assert office is not None
    page = await admin.get(f"/admin/offices/{office.id}")
    response = await admin.post(
        f"/admin/offices/{office.id}",
        data={
            "csrf": csrf_of(await page.text()),
            "name_kk": "Жаңа атау",
            "name_ru": "Новое название",
            "name_en": "New name",
            "address": "пр. Абая, 1",
            "region": "astana",
        },
        allow_redirects=False,
    )
    assert response.status == 303
    async with UnitOfWork(panel.database.sessions) as uow:
        stored = await uow.session.get(Office, office.id)
        assert stored is not None
        assert stored.name_ru == "Новое название" and stored.active is False
    [entry] = await _audit(panel, "office.update")
    assert entry.before is not None and entry.after is not None
    assert entry.before["active"] is True and entry.after["active"] is False
    empty = await admin.post(
        f"/admin/offices/{office.id}",
        data={"csrf": csrf_of(await page.text()), "name_kk": "", "name_ru": "", "name_en": ""},
    )
    assert empty.status == 400 and "Every name is required." in await empty.text()


async def test_csv_import_writes_good_rows_and_lists_bad_ones(panel: Panel) -> None:
    admin = await panel.as_role(StaffRole.ADMIN)
    content = (
        "code,region,name_kk,name_ru,name_en,address,active\n"
        "AST-77,astana,Жаңа,Новый,New,addr,true\n"
        "BAD-1,atlantis,a,b,c,addr,true\n"
        "AST-01,astana,Өзгерген,Изменён,Changed,addr,true\n"
    )
    form = FormData()
    form.add_field("csrf", await _token(admin))
    form.add_field("file", content.encode(), filename="offices.csv", content_type="text/csv")
    response = await admin.post("/admin/offices/import", data=form)
    assert response.status == 200
    html = await response.text()
    assert "Added: 1" in html and "Updated: 1" in html and "line 3: unknown region" in html
    async with UnitOfWork(panel.database.sessions) as uow:
        assert await uow.reference.office_by_code("AST-77") is not None
        changed = await uow.reference.office_by_code("AST-01")
        assert changed is not None and changed.name_en == "Changed"
    [entry] = await _audit(panel, "office.import")
    assert entry.after == {"file": "offices.csv", "added": 1, "updated": 1, "rejected": 1}
    junk = FormData()
    junk.add_field("csrf", await _token(admin))
    junk.add_field("file", b"\xff\xfe not a csv", filename="x.csv", content_type="text/csv")
    refused = await admin.post("/admin/services/import", data=junk)
    assert refused.status == 400
    assert "nothing was imported" in await refused.text()


async def test_qr_codes_carry_the_office_links(panel: Panel) -> None:
    admin = await panel.as_role(StaffRole.ADMIN)
    async with UnitOfWork(panel.database.sessions) as uow:
        office = await uow.reference.office_by_code("AST-01")
    assert office is not None
    links = office_links("AST-01", panel.config.http.public_url, panel.config.telegram.bot_username)
    assert links.telegram == "https://t.me/pikir_bot?start=AST-01"
    assert links.web == "http://pikir.test/chat?office=AST-01"
    png = await admin.get(f"/admin/offices/{office.id}/qr.png?target=telegram")
    assert png.status == 200 and png.content_type == "image/png"
    image = Image.open(io.BytesIO(await png.read()))
    assert image.size[0] == image.size[1] > 200
    # The PNG is the QR code of the deep link, module for module.
    expected = segno.make(links.telegram, error="m")
    assert image.size[0] == expected.symbol_size(scale=10)[0]
    svg = await admin.get(f"/admin/offices/{office.id}/qr.svg?target=web")
    assert svg.content_type == "image/svg+xml" and (await svg.text()).startswith("<svg")
    poster = await (await admin.get(f"/admin/offices/{office.id}/poster")).text()
    for name in (office.name_kk, office.name_ru, office.name_en, links.web, links.telegram):
        assert name in poster


async def test_poster_pdf_draws_both_qr_codes_with_an_embedded_font(panel: Panel) -> None:
    admin = await panel.as_role(StaffRole.ADMIN)
    async with UnitOfWork(panel.database.sessions) as uow:
        office = await uow.reference.office_by_code("AST-01")
    assert office is not None
    response = await admin.get(f"/admin/offices/{office.id}/poster.pdf")
    assert response.status == 200 and response.content_type == "application/pdf"
    assert "poster-AST-01.pdf" in response.headers["Content-Disposition"]
    pdf = await response.read()
    assert pdf.startswith(b"%PDF-") and pdf.count(b"/Type /Page\n") == 1
    # DejaVu Sans (with the Kazakh letters) is embedded, regular and bold.
    assert pdf.count(b"/FontFile2") == 2 and b"DejaVuSans-Bold" in pdf
    # Every dark module of both QR codes is drawn as a filled square.
    links = office_links("AST-01", panel.config.http.public_url, panel.config.telegram.bot_username)
    dark = sum(
        sum(sum(row) for row in segno.make(url, error="m").matrix)
        for url in (links.telegram, links.web)
    )
    assert _page_content(pdf).count(" re f") == dark


def _page_content(pdf: bytes) -> str:
    chunks = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        data = stream.strip()
        if data.endswith(b"~>"):
            data = base64.a85decode(data, adobe=True)
        try:
            chunks.append(zlib.decompress(data).decode("latin-1"))
        except zlib.error:
            continue
    return "".join(chunks)


async def test_audit_log_lists_and_filters_staff_actions(panel: Panel) -> None:
    case = await panel.add_case()
    admin = await panel.as_role(StaffRole.ADMIN)
    page = await (await admin.get(f"/admin/cases/{case.id}")).text()
    await admin.post(f"/admin/cases/{case.id}/note", data={"csrf": csrf_of(page), "note": "looked"})
    html = await (await admin.get("/admin/audit")).text()
    # Actions by name in the staff member's language, never their codes.
    assert "<td>Added a note</td>" in html and "<td>Logged in</td>" in html
    assert "case.note" not in html.replace('value="case.note"', "")
    only_notes = await (await admin.get("/admin/audit?action=case.note")).text()
    assert "<td>Added a note</td>" in only_notes and "<td>Logged in</td>" not in only_notes
    by_target = await (await admin.get(f"/admin/audit?target_type=case&target={case.id}")).text()
    assert f"/admin/cases/{case.id}" in by_target
    nothing = await (await admin.get("/admin/audit?actor=nobody")).text()
    assert "<td>Added a note</td>" not in nothing and "<td>Logged in</td>" not in nothing
    assert (await admin.get("/admin/audit?target_type=table")).status == 400


async def test_the_audit_log_cannot_be_changed_from_the_panel(panel: Panel) -> None:
    admin = await panel.as_role(StaffRole.ADMIN)
    token = await _token(admin)
    before = len(await _audit(panel, "login"))
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        response = await admin.request(method, "/admin/audit", data={"csrf": token})
        assert response.status in (404, 405), method
    assert len(await _audit(panel, "login")) == before
    from storage.repositories.audit import AuditRepository

    public = {name for name in dir(AuditRepository) if not name.startswith("_")}
    assert public == {"record", "entries"}
