"""Every download is in the audit log: who, what, which filters, how many rows, which format."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from sqlalchemy import select

from storage.database import Database
from storage.models import AuditEntry, Office
from storage.uow import UnitOfWork
from tests.figures.test_report_pages import as_, client  # noqa: F401 (the fixture)


async def _exports(database: Database) -> list[AuditEntry]:
    async with UnitOfWork(database.sessions) as uow:
        query = select(AuditEntry).where(AuditEntry.action == "export").order_by(AuditEntry.id)
        return list((await uow.session.scalars(query)).all())


async def test_every_download_is_audited(client, database: Database, tmp_path: Path) -> None:  # noqa: F811
    downloads = [
        ("/admin/reports/export?month=2026-09&format=xlsx&language=kk", "analyst"),
        ("/admin/reports/export?month=2026-09&period=quarter&format=csv", "analyst"),
        ("/admin/reports/export?month=2026-09&format=json", "admin"),
        ("/admin/reports/feedback.csv?month=2026-09", "analyst"),
    ]
    bodies = []
    for url, role in downloads:
        response = await client.get(url, headers=as_(role))
        assert response.status == 200, url
        bodies.append(await response.read())
    (tmp_path / "reports").mkdir(exist_ok=True)
    (tmp_path / "reports" / "pikir-2026-09.xlsx").write_bytes(b"pack")
    pack = await client.get("/admin/reports/packs/pikir-2026-09.xlsx", headers=as_("analyst"))
    assert pack.status == 200
    async with UnitOfWork(database.sessions) as uow:
        office = (await uow.session.scalars(select(Office).order_by(Office.id))).first()
        assert office is not None
    poster = await client.get(f"/admin/offices/{office.id}/poster.pdf", headers=as_("admin"))
    assert poster.status == 200
    # A refused download leaves no entry.
    assert (await client.get("/admin/reports/export", headers=as_("reviewer"))).status == 403

    entries = await _exports(database)
    assert [
        (e.actor_login, e.target_type, e.after["what"], e.after["format"]) for e in entries
    ] == [
        ("analyst", "report", "aggregates", "xlsx"),
        ("analyst", "report", "aggregates", "csv"),
        ("admin", "report", "aggregates", "json"),
        ("analyst", "report", "feedback_rows", "csv"),
        ("analyst", "report", "pack", "xlsx"),
        ("admin", "office", "poster", "pdf"),
    ]
    assert entries[0].after["filters"] == {"month": "2026-09", "period": "month", "language": "kk"}
    assert entries[1].after["filters"]["period"] == "quarter"
    assert entries[4].target_id == "pikir-2026-09.xlsx"
    assert entries[5].after["filters"] == {"office": office.code}
    # The row counts are those of the files sent.
    assert entries[1].after["rows"] == len(list(csv.reader(io.StringIO(bodies[1].decode())))) - 1
    assert entries[2].after["rows"] == len(json.loads(bodies[2]))
    assert entries[3].after["rows"] == len(list(csv.reader(io.StringIO(bodies[3].decode())))) - 1
    assert entries[3].after["rows"] == 240
    assert all(e.ip for e in entries)
