"""Hostile input: script in stored text renders as text, SQL metacharacters are just characters,
and malformed or over-long requests are a 400 (never a 500)."""

from __future__ import annotations

import random

import pytest
from aiohttp import FormData
from sqlalchemy import func, select

from storage.models import Case, StaffRole
from storage.uow import UnitOfWork
from tests.admin.conftest import Panel, csrf_of
from tests.admin.test_queue import case_ids

XSS = [
    '<script>alert("pikir")</script>',
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(2)>",
    "{{ 7*7 }}{% raw %}",
]
SQL = ["' OR 1=1 --", '"; DROP TABLE cases; --', "%", "_", "\\", "%' OR '1'='1", "ʼ OR ʼ1"]


def assert_inert(html: str) -> None:
    """None of the payloads came through as markup; each one is visible as text."""
    for payload in XSS[:3]:
        assert payload not in html
    assert "<script>alert" not in html and "<img src=x" not in html and "<svg/onload" not in html
    assert "&lt;script&gt;alert(&#34;pikir&#34;)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "49" not in html.split("{{ 7*7 }}")[0][-5:]  # not evaluated as a template


async def test_script_in_stored_text_renders_as_text_everywhere(panel: Panel) -> None:
    payload = " ".join(XSS)
    case = await panel.add_case(labels=("corruption",), text=payload, reply_address="chat-1")
    async with UnitOfWork(panel.database.sessions) as uow:
        office = await uow.reference.office_by_code("AST-01")
        assert office is not None
        office.name_en = payload[:290]
        office.address = payload[:290]
        await uow.commit()
    await panel.add_staff("mallory", StaffRole.ADMIN)
    async with UnitOfWork(panel.database.sessions) as uow:
        mallory = await uow.staff.by_login("mallory")
        assert mallory is not None
        mallory.display_name = payload[:190]
        await uow.commit()
    client = await panel.login("mallory")
    page = await (await client.get(f"/admin/cases/{case.id}")).text()
    token = csrf_of(page)
    for action, data in (
        ("note", {"note": payload}),
        ("reply", {"reply": payload}),
        ("status", {"status": "rejected", "reason": payload[:900]}),
    ):
        async with UnitOfWork(panel.database.sessions) as uow:
            current = await uow.cases.get(case.id)
            assert current is not None
        response = await client.post(
            f"/admin/cases/{case.id}/{action}",
            data={**data, "csrf": token, "version": str(current.version)},
            allow_redirects=False,
        )
        assert response.status == 303, action
    pages = [
        "/admin/queue?status=all",
        f"/admin/cases/{case.id}",
        f"/admin/cases/{case.id}/original",
        "/admin/offices",
        f"/admin/offices/{office.id}",
        f"/admin/offices/{office.id}/poster",
        "/admin/users",
        "/admin/audit",
    ]
    for path in pages:
        response = await client.get(path)
        assert response.status == 200, path
        html = await response.text()
        if path.startswith("/admin/queue"):
            assert "&lt;script&gt;" in html and "<script>alert" not in html
        else:
            assert_inert(html)


async def test_script_in_an_imported_office_name_renders_as_text(panel: Panel) -> None:
    client = await panel.as_role(StaffRole.ADMIN)
    token = csrf_of(await (await client.get("/admin/offices")).text())
    form = FormData()
    form.add_field("csrf", token)
    csv = (
        "code,region,name_kk,name_ru,name_en,address,active\n"
        'AST-66,astana,"<script>alert(1)</script>",Имя,Name,addr,true\n'
    )
    form.add_field("file", csv.encode(), filename="<b>x</b>.csv", content_type="text/csv")
    response = await client.post("/admin/offices/import", data=form)
    assert response.status == 200
    client_kk = await panel.as_role(StaffRole.ADMIN)
    token = csrf_of(await (await client_kk.get("/admin/offices")).text())
    await client_kk.post("/admin/language", data={"csrf": token, "lang": "kk"})
    html = await (await client_kk.get("/admin/offices")).text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html


@pytest.mark.parametrize(
    "name", ["tag", "office", "region", "service", "channel", "language", "status", "mine"]
)
async def test_sql_metacharacters_in_choice_filters_are_refused(panel: Panel, name: str) -> None:
    await panel.add_case()
    client = await panel.as_role(StaffRole.ADMIN)
    for value in SQL:
        response = await client.get("/admin/queue", params={name: value})
        assert response.status == 400, (name, value)
    async with UnitOfWork(panel.database.sessions) as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Case)) == 1


async def test_sql_metacharacters_in_search_are_plain_characters(panel: Panel) -> None:
    plain = await panel.add_case(text="обычная жалоба")
    odd = await panel.add_case(text='скидка 100% и 50_50, путь C:\\temp, it\'s "quoted"')
    client = await panel.as_role(StaffRole.ADMIN)

    async def found(query: str) -> set[int]:
        response = await client.get("/admin/queue", params={"q": query, "status": "all"})
        assert response.status == 200, query
        return set(case_ids(await response.text()))

    assert await found("%") == {odd.id}
    assert await found("_") == {odd.id}
    assert await found("\\") == {odd.id}
    assert await found("it's") == {odd.id}
    assert await found('"quoted"') == {odd.id}
    for value in ("' OR 1=1 --", '"; DROP TABLE cases; --', "%' OR '1'='1"):
        assert await found(value) == set()
    assert await found("жалоба") == {plain.id}
    audit = await client.get("/admin/audit", params={"actor": "' OR 1=1 --", "target": "%"})
    assert audit.status == 200


MALFORMED_QUERIES = [
    "q=" + "x" * 201,
    "q=" + "я" * 1000,
    "tag=" + "a" * 5000,
    "after=1.2.3.4",
    "after=abc",
    "before=1.2",
    "after=-1.2.3",
    "from=2026-13-45",
    "from=31.12.2026",
    "to=0001-01-01",
    "tag=delay&tag=rudeness",
    "q=%00",
    "mine=yes",
    "status=open&status=all",
]


async def test_malformed_queue_queries_are_a_400(panel: Panel) -> None:
    client = await panel.as_role(StaffRole.ADMIN)
    for query in MALFORMED_QUERIES:
        response = await client.get("/admin/queue?" + query)
        assert response.status == 400, query
        assert "The request was not understood." in await response.text()


async def test_random_garbage_never_breaks_any_page(panel: Panel) -> None:
    case = await panel.add_case()
    client = await panel.as_role(StaffRole.ADMIN)
    rng = random.Random(2017)
    alphabet = "aZ09%&=?#;'\"<>\\/._-+ \t\u00a0ЁёӘәҚқҰұІі😀\u202e\ufeff"
    paths = ["/admin/queue", "/admin/audit", f"/admin/cases/{case.id}", "/admin/users"]
    for _ in range(60):
        garbage = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60)))
        name = rng.choice(["q", "tag", "after", "from", "actor", "action", "before", garbage[:8]])
        response = await client.get(rng.choice(paths), params={name: garbage})
        assert response.status in (200, 400), (name, garbage, response.status)


async def test_over_long_urls_and_odd_paths_are_client_errors(panel: Panel) -> None:
    client = await panel.as_role(StaffRole.ADMIN)
    assert (await client.get("/admin/queue?q=" + "a" * 9000)).status in (400, 414)
    assert (await client.get("/admin/queue?" + "&".join(["x=1"] * 700))).status == 400
    assert (await client.get("/admin/cases/99999999999999999999999")).status == 404
    assert (await client.get("/admin/cases/abc")).status == 404
    async with UnitOfWork(panel.database.sessions) as uow:
        office = await uow.reference.office_by_code("AST-01")
    assert office is not None
    assert (await client.get(f"/admin/offices/{office.id}/qr.gif")).status == 404
    assert (await client.get(f"/admin/offices/{office.id}/qr.png?target=ftp")).status == 400


async def test_over_long_and_malformed_form_fields_are_a_400(panel: Panel) -> None:
    case = await panel.add_case()
    client = await panel.as_role(StaffRole.ADMIN)
    token = csrf_of(await (await client.get(f"/admin/cases/{case.id}")).text())
    bad_forms = [
        ("status", {"status": "closed", "version": "1"}),
        ("status", {"status": "resolved", "version": "one"}),
        ("status", {"status": "resolved", "version": "-1"}),
        ("status", {"status": "resolved"}),
        ("tags", {"tag_corruption": "maybe", "version": "1"}),
        ("assign", {"assignee": "1 OR 1=1", "version": "1"}),
        ("note", {"note": "x" * 20001}),
        ("reply", {"reply": "x\x00y", "version": "1"}),
    ]
    for action, data in bad_forms:
        response = await client.post(
            f"/admin/cases/{case.id}/{action}", data={**data, "csrf": token}
        )
        assert response.status == 400, (action, data)
    async with UnitOfWork(panel.database.sessions) as uow:
        stored = await uow.cases.get(case.id)
    assert stored is not None and stored.version == 1 and stored.events == []
