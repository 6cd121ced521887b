"""The review queue: flagged feedback worst first, filtered, counted per status, keyset-paged."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from admin.access import current_staff, require_roles
from admin.i18n import N_
from admin.keys import CLOCK, CONFIG, COUNTS, DATABASE
from admin.masking import contains_personal_data, mask_personal_data
from admin.params import bad_request, check_query_size, choice, day, single
from admin.policy import CASE_ROLES, can_see_raw_text, case_scope
from admin.rendering import render, request_language
from admin.views.labels import CHANNEL_LABELS, STATUS_LABELS, TAG_LABELS, priority_label
from storage.models import CaseStatus, Channel, Language, Office, Region, Service
from storage.repositories.cases import OPEN_STATUSES, CaseScope, QueueCursor, QueueFilter
from storage.repositories.feedback import normalise_reference
from storage.repositories.reference import PickItem
from storage.uow import UnitOfWork
from vocabulary import SEVERITY

FILTER_NAMES = (
    "status",
    "tag",
    "office",
    "region",
    "service",
    "channel",
    "language",
    "from",
    "to",
    "q",
    "mine",
)
STATUS_CHOICES = ("open", "all", "overdue", *(status.value for status in CaseStatus))
MAX_SEARCH_LENGTH = 200
_REFERENCE = re.compile(r"^\s*PK[-\s]?[0-9A-Za-z]{8}\s*$", re.IGNORECASE)
_CURSOR = re.compile(r"^(\d{1,2})\.(\d{1,17})\.(\d{1,18})$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode_cursor(cursor: QueueCursor) -> str:
    """A cursor as a short opaque string for the address bar."""
    micros = (cursor.opened_at - _EPOCH) // timedelta(microseconds=1)
    return f"{cursor.priority}.{micros}.{cursor.id}"


def decode_cursor(value: str | None) -> QueueCursor | None:
    """The cursor in ``value``; a malformed one is a 400."""
    if value is None:
        return None
    match = _CURSOR.match(value)
    if match is None:
        raise bad_request(N_("The page address is malformed."))
    priority, micros, case_id = (int(part) for part in match.groups())
    return QueueCursor(priority, _EPOCH + timedelta(microseconds=micros), case_id)


@require_roles(*CASE_ROLES)
async def queue_page(request: web.Request) -> web.StreamResponse:
    """The queue page."""
    check_query_size(request)
    staff = current_staff(request)
    scope = case_scope(staff)
    assert scope is not None
    config = request.app[CONFIG]
    query = request.query
    zone = ZoneInfo(config.reports.timezone)
    now = request.app[CLOCK]()
    status = choice(query, "status", STATUS_CHOICES) or "open"
    after = decode_cursor(single(query, "after", 64))
    before = decode_cursor(single(query, "before", 64))
    search = single(query, "q", MAX_SEARCH_LENGTH)
    if search and not can_see_raw_text(staff) and contains_personal_data(search):
        raise bad_request(N_("Searching for personal data is not available for your role."))
    opened_from = day(query, "from", zone)
    opened_to = day(query, "to", zone)
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        # A reviewer chooses among their own regions and offices only.
        regions = [r for r in await uow.reference.pick_list(Region) if _in_scope(scope, r)]
        offices = [o for o in await uow.reference.pick_list(Office) if _in_scope(scope, o)]
        services = await uow.reference.pick_list(Service)
        office_code = choice(query, "office", [office.code for office in offices])
        service_code = choice(query, "service", [service.code for service in services])
        wanted = QueueFilter(
            statuses=_statuses(status),
            tag=choice(query, "tag", SEVERITY),
            office_id=next((o.id for o in offices if o.code == office_code), None),
            region_code=choice(query, "region", [region.code for region in regions]),
            service_id=next((s.id for s in services if s.code == service_code), None),
            channel=_enum(Channel, choice(query, "channel", [c.value for c in Channel])),
            language=_enum(Language, choice(query, "language", [lang.value for lang in Language])),
            opened_from=opened_from,
            opened_before=opened_to + timedelta(days=1) if opened_to else None,
            overdue_at=now if status == "overdue" else None,
            assignee_id=staff.id if choice(query, "mine", ("1",)) else None,
            **_search(search),
        )
        page = await uow.cases.queue(
            scope, wanted, after=after, before=before, limit=config.page_size
        )
        # Counts ignore the status part of the filter: every status tab shares them.
        every_status = replace(wanted, statuses=(), overdue_at=None)
        counts = await request.app[COUNTS].get(
            (scope, every_status), lambda: uow.cases.counts(scope, every_status, now)
        )
        names = await uow.cases.staff_names(
            {row.assignee_id for row in page.rows if row.assignee_id}
        )
    filters = {name: single(query, name, MAX_SEARCH_LENGTH) for name in FILTER_NAMES}
    filters["status"] = status
    language = request_language(request)
    rows = [
        {
            "row": row,
            "snippet": _snippet(row.text),
            "assignee": names.get(row.assignee_id or 0),
            "overdue": row.status in OPEN_STATUSES and row.due_at is not None and row.due_at < now,
            "priority": priority_label(row.priority),
        }
        for row in page.rows
    ]
    return await render(
        request,
        "queue.html",
        {
            "rows": rows,
            "filters": filters,
            "status_tabs": _status_tabs(filters, counts.per_status, counts.overdue),
            "next_url": _url(filters, after=encode_cursor(page.next_cursor))
            if page.next_cursor
            else None,
            "prev_url": _url(filters, before=encode_cursor(page.prev_cursor))
            if page.prev_cursor
            else None,
            "first_url": _url(filters) if (after or before) else None,
            "region_options": [(r.code, r.name(language)) for r in regions],
            "office_options": [(o.code, f"{o.code} — {o.name(language)}") for o in offices],
            "service_options": [(s.code, s.name(language)) for s in services],
            "tags": SEVERITY,
            "tag_labels": TAG_LABELS,
            "status_labels": STATUS_LABELS,
            "channel_labels": CHANNEL_LABELS,
            "channels": [c.value for c in Channel],
            "case_languages": [lang.value for lang in Language],
        },
    )


def _in_scope(scope: CaseScope, item: PickItem) -> bool:
    return scope.region_codes is None or item.region_code in scope.region_codes


def _statuses(status: str) -> tuple[CaseStatus, ...]:
    if status in ("open", "overdue"):
        return OPEN_STATUSES
    if status == "all":
        return ()
    return (CaseStatus(status),)


def _enum(kind: Any, value: str | None) -> Any:
    return None if value is None else kind(value)


def _search(search: str | None) -> dict[str, str | None]:
    if not search:
        return {}
    if _REFERENCE.match(search):
        return {"reference": normalise_reference(search)}
    return {"text": search}


def _snippet(text: str | None, limit: int = 140) -> str:
    if not text:
        return ""
    masked = mask_personal_data(text)
    return masked if len(masked) <= limit else masked[: limit - 1] + "…"


def _url(filters: dict[str, str | None], **extra: str) -> str:
    params = {k: v for k, v in filters.items() if v} | extra
    return "/admin/queue" + ("?" + urlencode(params) if params else "")


def _status_tabs(
    filters: dict[str, str | None], counts: dict[CaseStatus, int], overdue: int
) -> list[dict[str, Any]]:
    open_count = sum(counts[status] for status in OPEN_STATUSES)
    tabs: list[tuple[str, str, int]] = [
        ("open", N_("Open"), open_count),
        ("overdue", N_("Overdue"), overdue),
    ]
    tabs += [(status.value, STATUS_LABELS[status.value], counts[status]) for status in CaseStatus]
    tabs.append(("all", N_("All"), sum(counts.values())))
    return [
        {
            "value": value,
            "label": label,
            "count": count,
            "url": _url({**filters, "status": value}),
            "active": filters.get("status") == value,
        }
        for value, label, count in tabs
    ]
