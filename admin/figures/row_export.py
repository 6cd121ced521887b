"""Row-level feedback export for the analyst: no free text and nothing that identifies a person.

The reference number (which a citizen holds) is dropped and the time is cut to the date.
"""

from __future__ import annotations

from typing import Any

from storage.feedback_export import BASE_COLUMNS, feedback_row
from storage.models import Feedback

ANALYST_COLUMNS = ["date", *(c for c in BASE_COLUMNS if c not in {"ref", "created_at"})]


def analyst_row(feedback: Feedback) -> dict[str, Any]:
    """One feedback without text, reference number or exact time."""
    row = feedback_row(feedback, with_text=False)
    row.pop("ref", None)
    row["date"] = row.pop("created_at")[:10]
    return row
