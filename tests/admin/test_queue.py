"""The review queue: severity order, filters, counts, overdue marks and keyset paging."""

from __future__ import annotations

import re
from datetime import timedelta

from storage.models import CaseStatus, Channel, Language, StaffRole
from storage.repositories.cases import CaseScope, QueueFilter
from storage.uow import UnitOfWork
from tests.admin.conftest import Panel

_ROW_REF = re.compile(r'<a href="/admin/cases/(\d+)">(PK-[0-9A-Z]{8})</a>')


def case_ids(html: str) -> list[int]:
    """Case ids in the order the queue shows them."""
    return [int(case_id) for case_id, _ in _ROW_REF.findall(html)]


async def test_worst_and_oldest_first(panel: Panel) -> None:
    now = panel.clock.now
    delay_old = await panel.add_case(labels=("delay",), opened_at=now - timedelta(days=3))
    corruption_new = await panel.add_case(
        labels=("corruption",), opened_at=now - timedelta(hours=1)
    )
    corruption_old = await panel.add_case(labels=("corruption",), opened_at=now - timedelta(days=2))
    hidden = await panel.add_case(labels=("hidden_service",), opened_at=now - timedelta(days=5))
    low = await panel.add_case(labels=(), rating=1, opened_at=now - timedelta(days=9))
    direct = await panel.add_case(labels=(), direct=True, opened_at=now - timedelta(hours=2))
    client = await panel.as_role(StaffRole.ADMIN)
    first = await (await client.get("/admin/queue")).text()  # 5 a page in these tests
    rest = await (await client.get(_link(first, "next") or "")).text()
    assert case_ids(first) + case_ids(rest) == [
        corruption_old.id,
        direct.id,
        corruption_new.id,
        hidden.id,
        delay_old.id,
        low.id,
    ]


async def test_filters_narrow_the_queue(panel: Panel) -> None:
    now = panel.clock.now
    a = await panel.add_case(office_code="AST-01", labels=("delay",), text="очередь три часа")
    b = await panel.add_case(
        office_code="ALA-01",
        labels=("rudeness",),
        channel=Channel.WEB,
        language=Language.KK,
        text="қызметкер дөрекі сөйледі",
    )
    c = await panel.add_case(
        office_code="AST-02", labels=("delay", "misinformation"), opened_at=now - timedelta(days=40)
    )
    client = await panel.as_role(StaffRole.ADMIN)

    async def ids(query: str | dict[str, str]) -> set[int]:
        if isinstance(query, dict):
            response = await client.get("/admin/queue", params=query)
        else:
            response = await client.get("/admin/queue?" + query)
        assert response.status == 200, query
        return set(case_ids(await response.text()))

    assert await ids("tag=delay") == {a.id, c.id}
    assert await ids("tag=misinformation") == {c.id}
    assert await ids("office=ALA-01") == {b.id}
    assert await ids("region=astana") == {a.id, c.id}
    assert await ids("channel=web") == {b.id}
    assert await ids("language=kk") == {b.id}
    assert await ids({"q": "ДӨРЕКІ"}) == {b.id}  # any case, Kazakh letters included
    assert await ids({"q": "очередь"}) == {a.id}
    start = (now - timedelta(days=45)).date().isoformat()
    end = (now - timedelta(days=35)).date().isoformat()
    assert await ids(f"from={start}&to={end}") == {c.id}
    assert await ids("tag=delay&region=astana&from=" + start) == {a.id, c.id}
    ref = await _reference(panel, b.feedback_id)
    assert await ids({"q": ref.lower().replace("-", " ")}) == {b.id}


async def _reference(panel: Panel, feedback_id: int) -> str:
    async with UnitOfWork(panel.database.sessions) as uow:
        refs = await uow.cases.references({feedback_id})
    return refs[feedback_id]


async def test_status_tabs_count_and_filter(panel: Panel) -> None:
    first = await panel.add_case()
    await panel.add_case()
    third = await panel.add_case()
    async with UnitOfWork(panel.database.sessions) as uow:
        for case_id, status in ((first.id, CaseStatus.RESOLVED), (third.id, CaseStatus.IN_REVIEW)):
            case = await uow.cases.get(case_id)
            assert case is not None
            case.status = status
        await uow.commit()
    client = await panel.as_role(StaffRole.ADMIN)
    html = await (await client.get("/admin/queue")).text()
    counts = dict(re.findall(r'status=(\w+)"[^>]*>[^<]+<span class="count">(\d+)</span>', html))
    assert counts == {
        "open": "2",
        "overdue": "0",
        "new": "1",
        "in_review": "1",
        "answered": "0",
        "resolved": "1",
        "rejected": "0",
        "all": "3",
    }
    assert case_ids(await (await client.get("/admin/queue?status=resolved")).text()) == [first.id]
    assert len(case_ids(await (await client.get("/admin/queue?status=all")).text())) == 3


async def test_overdue_cases_are_marked_by_their_tag_sla(panel: Panel) -> None:
    now = panel.clock.now
    # Corruption is due in 24 h, delay in 72 h (the defaults of PIKIR_SLA__*).
    late = await panel.add_case(labels=("corruption",), opened_at=now - timedelta(hours=25))
    in_time = await panel.add_case(labels=("delay",), opened_at=now - timedelta(hours=25))
    client = await panel.as_role(StaffRole.ADMIN)
    html = await (await client.get("/admin/queue")).text()
    rows = html.split("<tr class=")[1:]
    assert "overdue" in rows[0] and f"/admin/cases/{late.id}" in rows[0]
    assert "badge-overdue" not in rows[1] and f"/admin/cases/{in_time.id}" in rows[1]
    assert case_ids(await (await client.get("/admin/queue?status=overdue")).text()) == [late.id]
    panel.clock.advance(hours=48)
    client = await panel.as_role(StaffRole.ADMIN)  # the old session timed out meanwhile
    overdue = await (await client.get("/admin/queue?status=overdue")).text()
    assert set(case_ids(overdue)) == {late.id, in_time.id}


async def test_keyset_pages_walk_the_whole_queue_both_ways(panel: Panel) -> None:
    # The test panel shows 5 cases a page.
    now = panel.clock.now
    created = []
    for index in range(7):
        labels = ("corruption",) if index % 3 == 0 else ("delay",)
        case = await panel.add_case(labels=labels, opened_at=now - timedelta(hours=index))
        created.append(case.id)
    client = await panel.as_role(StaffRole.ADMIN)
    first = await (await client.get("/admin/queue?status=all")).text()
    next_url = _link(first, "next")
    assert next_url is not None and _link(first, "prev") is None
    second = await (await client.get(next_url)).text()
    assert _link(second, "next") is None
    seen = case_ids(first) + case_ids(second)
    assert [len(case_ids(first)), len(case_ids(second))] == [5, 2]
    assert sorted(seen) == sorted(created) and len(set(seen)) == 7
    prev_url = _link(second, "prev")
    assert prev_url is not None and "status=all" in prev_url
    assert case_ids(await (await client.get(prev_url)).text()) == case_ids(first)


def _link(html: str, rel: str) -> str | None:
    match = re.search(rf'<a href="([^"]+)" rel="{rel}">', html)
    return match.group(1).replace("&amp;", "&") if match else None


async def test_queue_paging_in_the_repository(panel: Panel) -> None:
    """Keyset paging forwards and back over the same order, on both databases."""
    now = panel.clock.now
    ids = []
    for index in range(11):
        labels = ("corruption",) if index % 4 == 0 else ("rudeness",)
        ids.append(
            (await panel.add_case(labels=labels, opened_at=now - timedelta(minutes=index))).id
        )
    async with UnitOfWork(panel.database.sessions) as uow:
        everything = await uow.cases.queue(CaseScope(), QueueFilter(), limit=100)
        order = [row.id for row in everything.rows]
        assert sorted(order) == sorted(ids)
        forward: list[int] = []
        pages = []
        page = await uow.cases.queue(CaseScope(), QueueFilter(), limit=4)
        while True:
            pages.append(page)
            forward += [row.id for row in page.rows]
            if page.next_cursor is None:
                break
            page = await uow.cases.queue(
                CaseScope(), QueueFilter(), after=page.next_cursor, limit=4
            )
        assert forward == order
        assert [len(p.rows) for p in pages] == [4, 4, 3]
        back = await uow.cases.queue(
            CaseScope(), QueueFilter(), before=pages[2].prev_cursor, limit=4
        )
        assert [row.id for row in back.rows] == order[4:8]
        assert back.prev_cursor is not None
        first = await uow.cases.queue(CaseScope(), QueueFilter(), before=back.prev_cursor, limit=4)
        assert [row.id for row in first.rows] == order[:4] and first.prev_cursor is None


async def test_counts_follow_the_staff_members_own_change_at_once(panel: Panel) -> None:
    from tests.admin.conftest import csrf_of

    case = await panel.add_case()
    client = await panel.as_role(StaffRole.ADMIN)
    html = await (await client.get("/admin/queue")).text()
    assert 'status=new">New <span class="count">1</span>' in html
    response = await client.post(
        f"/admin/cases/{case.id}/status",
        data={"csrf": csrf_of(html), "version": "1", "status": "in_review"},
        allow_redirects=False,
    )
    assert response.status == 303
    html = await (await client.get("/admin/queue")).text()
    assert 'status=new">New <span class="count">0</span>' in html
    assert 'status=in_review">In review <span class="count">1</span>' in html
