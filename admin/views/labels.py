"""Human names of tags, statuses, channels, criteria, priorities (English; translated on show)."""

from __future__ import annotations

from admin.i18n import N_
from vocabulary import SEVERITY
from vocabulary import TAG_LABELS as _TAG_NAMES

# The tags' English names are the vocabulary's (the catalogs translate them like any message).
TAG_LABELS = dict(_TAG_NAMES)
STATUS_LABELS = {
    "new": N_("New"),
    "in_review": N_("In review"),
    "answered": N_("Answered"),
    "resolved": N_("Resolved"),
    "rejected": N_("Rejected"),
}
CHANNEL_LABELS = {"telegram": N_("Telegram"), "web": N_("Web chat"), "import": N_("Import")}
CRITERIA_LABELS = {
    "politeness": N_("Politeness and ethics"),
    "waiting": N_("Waiting time"),
    "information": N_("Clear information"),
    "result": N_("Got the result"),
    "no_extra_payment": N_("No money or extras asked"),
}
DELIVERY_LABELS = {
    "pending": N_("waiting to be sent"),
    "sending": N_("being sent"),
    "sent": N_("delivered"),
    "failed": N_("failed"),
}
ROLE_LABELS = {
    "reviewer": N_("Reviewer"),
    "anticorruption": N_("Anti-corruption"),
    "analyst": N_("Analyst"),
    "admin": N_("Administrator"),
}
EVENT_LABELS = {
    "assign": N_("Assignment"),
    "status": N_("Status change"),
    "tags": N_("Tag correction"),
    "reply": N_("Reply"),
    "note": N_("Note"),
}
FIELD_LABELS = {
    "status": N_("Status"),
    "labels": N_("Tags"),
    "priority": N_("Severity"),
    "assignee_id": N_("Assignee"),
    "resolution": N_("Resolution"),
}
LOW_RATING_LABEL = N_("Low rating")


def priority_label(priority: int) -> str:
    """The name of a priority rank: its tag, or "low rating" past the tags."""
    if 0 <= priority < len(SEVERITY):
        return TAG_LABELS[SEVERITY[priority]]
    return LOW_RATING_LABEL
