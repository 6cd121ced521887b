"""Reference data: shipped files load idempotently; agency CSV imports report bad lines."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage.database import Database
from storage.models import Office, Region, Service, ServiceCategory
from storage.reference_data import (
    CsvFormatError,
    import_offices,
    import_services,
    load_reference_data,
)
from storage.uow import UnitOfWork


async def _count(db: Database, model) -> int:
    async with UnitOfWork(db.sessions) as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)))


async def test_shipped_reference_covers_the_country(database: Database) -> None:
    assert await _count(database, Region) == 20
    assert await _count(database, Office) >= 40
    assert await _count(database, Service) >= 40
    assert await _count(database, ServiceCategory) >= 8
    async with UnitOfWork(database.sessions) as uow:
        for region in await uow.reference.regions():
            assert await uow.reference.offices(region.code), f"no office in {region.code}"
            assert region.name_kk and region.name_ru and region.name_en
        per_category = {}
        for service in await uow.reference.services():
            per_category[service.category_code] = per_category.get(service.category_code, 0) + 1
        assert sum(1 for n in per_category.values() if n >= 4) >= 8
        hidden = [s for s in await uow.reference.services() if not s.has_standard]
        assert hidden, "no hidden (non-standard) service in the register"


async def test_loading_twice_changes_nothing(database: Database) -> None:
    before = await _count(database, Office), await _count(database, Service)
    async with UnitOfWork(database.sessions) as uow:
        report = await load_reference_data(uow)
        await uow.commit()
    assert report.added == 0
    assert (await _count(database, Office), await _count(database, Service)) == before


async def test_office_search_folds_cyrillic_case(database: Database) -> None:
    async with UnitOfWork(database.sessions) as uow:
        found = await uow.reference.search_offices("АЛМАЛ")
        assert any(o.code == "ALA-01" for o in found)
        assert await uow.reference.search_offices("%") == []
        assert await uow.reference.office_by_code("ala-01") is not None


OFFICES_CSV = """code,region,name_kk,name_ru,name_en,address,active
NEW-01,astana,Жаңа ХҚКО,Новый ЦОН,New PSC,"ул. Новая, 1",true
BAD-01,nowhere,Х,Ц,P,,true
,astana,Х,Ц,P,,true
NEW-02,almaty,Екінші,Второй,Second,,maybe
NEW-03,shymkent,Үшінші,Третий,Third,,false
AST-01,astana,Өзгертілген,Изменённый ЦОН,Changed PSC,,true
"""


async def test_office_import_keeps_good_rows_and_reports_bad_lines(database: Database) -> None:
    async with UnitOfWork(database.sessions) as uow:
        report = await import_offices(uow, OFFICES_CSV.encode())
        await uow.commit()
    assert report.added == 2 and report.updated == 1
    assert [e.split(":")[0] for e in report.errors] == ["line 3", "line 4", "line 5"]
    assert "unknown region 'nowhere'" in report.errors[0]
    async with UnitOfWork(database.sessions) as uow:
        new = await uow.reference.office_by_code("NEW-01")
        assert new is not None and new.address == "ул. Новая, 1"
        assert (await uow.reference.office_by_code("NEW-03")).active is False
        assert (await uow.reference.office_by_code("AST-01")).name_ru == "Изменённый ЦОН"
        assert await uow.reference.office_by_code("NEW-02") is None


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"code,name_ru\nX,Y\n", "missing column"),
        ("code,region\n".encode("utf-16"), "not UTF-8"),
        (b"x" * (6 * 1024 * 1024), "larger than"),
    ],
)
async def test_unusable_files_are_refused_whole(
    database: Database, payload: bytes, message: str
) -> None:
    async with UnitOfWork(database.sessions) as uow:
        with pytest.raises(CsvFormatError, match=message):
            await import_offices(uow, payload)


async def test_service_import_checks_category_and_flag(database: Database) -> None:
    data = (
        "code,category,name_kk,name_ru,name_en,has_standard\n"
        "new_service,identity,Жаңа,Новая,New,true\n"
        "bad_service,no_such_category,Ж,Н,N,true\n"
        "Bad Code,identity,Ж,Н,N,true\n"
    ).encode()
    async with UnitOfWork(database.sessions) as uow:
        report = await import_services(uow, data)
        await uow.commit()
    assert report.added == 1
    assert len(report.errors) == 2 and report.errors[0].startswith("line 3")
