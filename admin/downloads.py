"""Every file a staff member downloads is written to the audit log: who, what, with which
filters, how many rows and in which format (action ``export``)."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from admin.access import current_staff
from storage.uow import UnitOfWork

# What can be downloaded (the audit page names each in the staff member's language).
DOWNLOADS = ("aggregates", "feedback_rows", "pack", "poster")


def audit_download(
    request: web.Request,
    uow: UnitOfWork,
    *,
    what: str,
    fmt: str,
    rows: int | None,
    filters: Mapping[str, str | None],
    target_type: str = "report",
    target_id: str | int | None = None,
) -> None:
    """Record the download in ``uow`` (the caller commits before sending the file)."""
    assert what in DOWNLOADS, what
    uow.audit.record(
        "export",
        actor=current_staff(request),
        target_type=target_type,
        target_id=target_id if target_id is not None else what,
        after={
            "what": what,
            "format": fmt,
            "rows": rows,
            "filters": {key: value for key, value in filters.items() if value},
        },
        ip=request.remote or "unknown",
    )
