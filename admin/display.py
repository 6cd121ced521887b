"""Words a person reads instead of the codes the panel stores: report periods, service
categories, audit actions and their before → after, downloads, scheduled jobs and their
outcomes.

Labels are English, marked with ``N_`` and translated where shown (``admin/locales``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from admin.i18n import LANGUAGE_NAMES, N_
from admin.views.labels import ROLE_LABELS, STATUS_LABELS, TAG_LABELS, priority_label

Translate = Callable[[str], str]

PERIOD_LABELS = {"month": N_("Month"), "quarter": N_("Quarter"), "year": N_("Year")}

AUDIT_ACTION_LABELS = {
    "login": N_("Logged in"),
    "login.failed": N_("Failed login"),
    "login.locked": N_("Login refused: account locked"),
    "logout": N_("Logged out"),
    "password.change": N_("Changed own password"),
    "case.view_raw": N_("Viewed the original text"),
    "attachment.view": N_("Opened a photo"),
    "case.assign": N_("Assigned a case"),
    "case.tags": N_("Corrected tags"),
    "case.status": N_("Changed a case's status"),
    "case.reply": N_("Replied to the citizen"),
    "case.note": N_("Added a note"),
    "user.create": N_("Created an account"),
    "user.update": N_("Changed an account"),
    "user.reset_password": N_("Reset a password"),
    "office.update": N_("Changed an office"),
    "office.import": N_("Imported offices"),
    "service.update": N_("Changed a service"),
    "service.import": N_("Imported services"),
    "export": N_("Download"),
}
TARGET_LABELS = {
    "case": N_("Case"),
    "staff": N_("Staff account"),
    "office": N_("Office"),
    "service": N_("Service"),
    "attachment": N_("Photo"),
    "report": N_("Report"),
}
DOWNLOAD_LABELS = {
    "aggregates": N_("Figures of the period"),
    "feedback_rows": N_("Feedback rows without text"),
    "pack": N_("Monthly pack"),
    "poster": N_("Office poster"),
}
_AUDIT_FIELDS = {
    "status": N_("Status"),
    "resolution": N_("Resolution"),
    "assignee_id": N_("Assignee"),
    "labels": N_("Tags"),
    "priority": N_("Severity"),
    "outbox_id": N_("Message to the citizen"),
    "role": N_("Role"),
    "regions": N_("Regions"),
    "region": N_("Region"),
    "active": N_("Active"),
    "display_name": N_("Name"),
    "language": N_("Panel language"),
    "name_kk": N_("Name in Kazakh"),
    "name_ru": N_("Name in Russian"),
    "name_en": N_("Name in English"),
    "address": N_("Address"),
    "category": N_("Category"),
    "has_standard": N_("Has a published service standard"),
    "file": N_("File"),
    "added": N_("Added"),
    "updated": N_("Updated"),
    "rejected": N_("Rejected"),
    "what": N_("What"),
    "format": N_("Format"),
    "rows": N_("Rows"),
    "filters": N_("Filters"),
}
_FILTER_FIELDS = {
    "month": N_("Month"),
    "period": N_("Period"),
    "language": N_("Language"),
    "office": N_("Office"),
}

JOB_LABELS = {
    "aggregate": N_("Figures refresh"),
    "month_close": N_("Month close and pack"),
    "retention": N_("Retention (erasing old texts and photos)"),
    "sla_reminders": N_("Overdue reminders"),
    "weekly_digest": N_("Weekly digest"),
    "retrain": N_("Classifier retraining"),
}
JOB_OUTCOME_LABELS = {
    "running": N_("running"),
    "ok": N_("done"),
    "failed": N_("failed"),
    "skipped": N_("skipped"),
}
# The jobs write their details in English for the logs; the page shows them translated.
_JOB_DETAILS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^months: (?P<months>.+)$"), N_("Months refreshed: %(months)s")),
    (re.compile(r"^no overdue cases$"), N_("No overdue cases")),
    (
        re.compile(r"^(?P<count>\d+) overdue case\(s\) reminded$"),
        N_("Overdue cases reminded: %(count)s"),
    ),
    (
        re.compile(r"^no staff chat configured \(PIKIR_TELEGRAM__STAFF_CHAT_ID\)$"),
        N_("No staff chat is configured."),
    ),
    (
        re.compile(r"^(?P<count>\d+) response\(s\) in the week$"),
        N_("Responses in the week: %(count)s"),
    ),
    (
        re.compile(r"^retraining is not available in this build$"),
        N_("Retraining is not available in this installation."),
    ),
    (
        re.compile(
            r"^(?P<texts>\d+) text\(s\), (?P<files>\d+) attachment\(s\) erased; "
            r"(?:\d+ forgotten photo file\(s\) removed; )?"
            r"(?P<runs>\d+) old job run\(s\) forgotten$"
        ),
        N_("Texts erased: %(texts)s; photos erased: %(files)s; old job runs removed: %(runs)s"),
    ),
    (
        re.compile(r"^(?P<file>[\w.-]+); sent to (?P<count>\d+) staff$"),
        N_("%(file)s, sent to %(count)s staff members"),
    ),
)


def job_detail(detail: str | None, _: Translate) -> str:
    """A job run's detail in the staff member's language (as written when unknown)."""
    if not detail:
        return ""
    for pattern, message in _JOB_DETAILS:
        match = pattern.match(detail)
        if match:
            return _(message) % match.groupdict()
    return detail


def run_slot(run_key: str) -> str:
    """The period a job run covered (``sla_reminders:2026-11-20T13`` → ``2026-11-20T13``)."""
    return run_key.partition(":")[2] or run_key


@dataclass(frozen=True)
class Names:
    """Names of what audit entries refer to by code, in the staff member's language."""

    people: Mapping[int, str]
    regions: Mapping[str, str]
    categories: Mapping[str, str]


def audit_changes(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    names: Names,
    _: Translate,
) -> list[tuple[str, str, str | None]]:
    """What an audit entry changed: (field, before, after) in words; ``before`` is None for
    an entry that only records what was done (a download, an import)."""
    before, after = dict(before or {}), dict(after or {})
    keys = [key for key in _AUDIT_FIELDS if key in after or key in before]
    keys += [key for key in [*after, *before] if key not in _AUDIT_FIELDS and key not in keys]
    changes: list[tuple[str, str, str | None]] = []
    for key in keys:
        label = _(_AUDIT_FIELDS[key]) if key in _AUDIT_FIELDS else key
        if not before:
            changes.append((label, _value(key, after.get(key), names, _), None))
        elif before.get(key) != after.get(key):
            changes.append(
                (
                    label,
                    _value(key, before.get(key), names, _),
                    _value(key, after.get(key), names, _),
                )
            )
    return changes


def _value(key: str, value: Any, names: Names, _: Translate) -> str:
    if value is None or value == [] or value == "" or value == {}:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key == "status":
        return _(STATUS_LABELS.get(str(value), str(value)))
    if key == "labels":
        return ", ".join(_(TAG_LABELS.get(tag, tag)) for tag in value)
    if key == "priority":
        return _(priority_label(int(value)))
    if key == "assignee_id":
        return names.people.get(int(value), "?")
    if key == "role":
        return _(ROLE_LABELS.get(str(value), str(value)))
    if key == "regions":
        return ", ".join(names.regions.get(code, code) for code in value)
    if key == "region":
        return names.regions.get(str(value), str(value))
    if key == "category":
        return names.categories.get(str(value), str(value))
    if key == "language":
        return LANGUAGE_NAMES.get(str(value), str(value))
    if key == "what":
        return _(DOWNLOAD_LABELS.get(str(value), str(value)))
    if key == "format":
        return str(value).upper()
    if key == "outbox_id":
        return _("queued for delivery")
    if key == "filters" and isinstance(value, Mapping):
        return "; ".join(
            f"{_(_FILTER_FIELDS[name]) if name in _FILTER_FIELDS else name}: "
            f"{_filter_value(name, item, _)}"
            for name, item in value.items()
        )
    return str(value)


def _filter_value(name: str, value: Any, _: Translate) -> str:
    if name == "period":
        return _(PERIOD_LABELS.get(str(value), str(value)))
    if name == "language":
        return LANGUAGE_NAMES.get(str(value), str(value))
    return str(value)
