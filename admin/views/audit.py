"""The audit log, for administrators: every staff action, newest first, filterable.

The panel only reads this table; entries are added by the actions themselves.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from admin.access import require_roles
from admin.display import AUDIT_ACTION_LABELS, TARGET_LABELS, Names, audit_changes
from admin.i18n import N_
from admin.keys import CONFIG, DATABASE
from admin.params import bad_request, check_query_size, day, integer, single
from admin.policy import ADMIN_ROLES
from admin.rendering import render, request_language, translator
from storage.models import Region
from storage.repositories.audit import AuditFilter
from storage.uow import UnitOfWork

PAGE_SIZE = 100
ACTIONS = (
    "login",
    "login.failed",
    "login.locked",
    "logout",
    "password.change",
    "case.view_raw",
    "attachment.view",
    "case.assign",
    "case.tags",
    "case.status",
    "case.reply",
    "case.note",
    "user.create",
    "user.update",
    "user.reset_password",
    "office.update",
    "office.import",
    "service.update",
    "service.import",
    "export",
)
TARGET_TYPES = ("case", "staff", "office", "service", "attachment", "report")
FILTER_NAMES = ("actor", "action", "target_type", "target", "from", "to")


@require_roles(*ADMIN_ROLES)
async def audit_page(request: web.Request) -> web.StreamResponse:
    """One page of the audit log."""
    check_query_size(request)
    query = request.query
    zone = ZoneInfo(request.app[CONFIG].reports.timezone)
    action = single(query, "action", 48)
    if action is not None and not all(ch.isalnum() or ch in "._" for ch in action):
        raise bad_request(N_("A parameter has a value that is not allowed."))
    target_type = single(query, "target_type", 32)
    if target_type is not None and target_type not in TARGET_TYPES:
        raise bad_request(N_("A parameter has a value that is not allowed."))
    until = day(query, "to", zone)
    wanted = AuditFilter(
        actor_login=single(query, "actor", 64),
        action=action,
        target_type=target_type,
        target_id=single(query, "target", 64),
        since=day(query, "from", zone),
        until=until + timedelta(days=1) if until else None,
    )
    before_id = integer(query, "before", low=1)
    language = request_language(request)
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        entries = await uow.audit.entries(wanted, before_id=before_id, limit=PAGE_SIZE)
        assignees = {
            int(value)
            for entry in entries
            for side in (entry.before or {}, entry.after or {})
            if isinstance(value := side.get("assignee_id"), int)
        }
        names = Names(
            people=await uow.cases.staff_names(assignees),
            regions={r.code: r.name(language) for r in await uow.reference.pick_list(Region)},
            categories={
                c.code: str(getattr(c, f"name_{language}"))
                for c in await uow.reference.categories()
            },
        )
    _ = translator(request)
    filters = {name: single(query, name, 64) for name in FILTER_NAMES}
    params = {k: v for k, v in filters.items() if v}
    next_url = None
    if len(entries) == PAGE_SIZE:
        next_url = "/admin/audit?" + urlencode({**params, "before": entries[-1].id})
    return await render(
        request,
        "audit.html",
        {
            "entries": [
                {
                    "entry": entry,
                    "action": AUDIT_ACTION_LABELS.get(entry.action),
                    "target": TARGET_LABELS.get(entry.target_type or ""),
                    "changes": audit_changes(entry.before, entry.after, names, _),
                }
                for entry in entries
            ],
            "filters": filters,
            "actions": [(action, AUDIT_ACTION_LABELS[action]) for action in ACTIONS],
            "target_types": [(kind, TARGET_LABELS[kind]) for kind in TARGET_TYPES],
            "next_url": next_url,
            "first_url": "/admin/audit?" + urlencode(params) if before_id else None,
        },
    )
