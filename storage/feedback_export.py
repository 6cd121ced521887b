"""Row-level export of feedback: one flat dict per feedback, free text only on request."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Iterable
from typing import Any

from storage.models import CRITERIA, Feedback
from storage.repositories.feedback import effective_tags
from storage.spreadsheet import spreadsheet_text

BASE_COLUMNS = (
    "ref",
    "created_at",
    "month",
    "channel",
    "language",
    "region",
    "office",
    "service",
    "rating",
    *CRITERIA,
    "direct_report",
    "has_text",
    "tags",
    "status",
)


def feedback_row(feedback: Feedback, *, with_text: bool = False) -> dict[str, Any]:
    """The export row of one feedback (criteria as true/false/None, tags sorted)."""
    tags = sorted(name for name, t in effective_tags(feedback.tags).items() if t["present"])
    row: dict[str, Any] = {
        "ref": feedback.ref,
        "created_at": feedback.created_at.isoformat(),
        "month": feedback.month,
        "channel": str(feedback.channel),
        "language": str(feedback.language),
        "region": feedback.office.region_code if feedback.office else None,
        "office": feedback.office.code if feedback.office else None,
        "service": feedback.service.code if feedback.service else None,
        "rating": feedback.rating,
        **{name: getattr(feedback, f"crit_{name}") for name in CRITERIA},
        "direct_report": feedback.is_direct_report,
        "has_text": feedback.has_text,
        "tags": tags,
        "status": str(feedback.case.status) if feedback.case else "not_flagged",
    }
    if with_text:
        row["text"] = feedback.text
    return row


async def write_feedback(
    rows: AsyncIterator[Feedback], fmt: str, *, with_text: bool = False
) -> str:
    """Render feedback rows as CSV or a JSON list."""
    records = [feedback_row(f, with_text=with_text) async for f in rows]
    if fmt == "json":
        return json.dumps(records, ensure_ascii=False, indent=1)
    return to_csv(records, [*BASE_COLUMNS, *(["text"] if with_text else [])])


def to_csv(records: Iterable[dict[str, Any]], columns: list[str]) -> str:
    """CSV text with a header; lists joined by ``;``, booleans as true/false, None empty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([spreadsheet_text(c) for c in columns])
    for record in records:
        writer.writerow([_cell(record.get(c)) for c in columns])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return spreadsheet_text(";".join(str(v) for v in value))
    return spreadsheet_text(str(value))
