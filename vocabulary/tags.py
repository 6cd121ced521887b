"""The complaint tags in severity order, with their overdue times and who may see their cases."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


def N_(message: str) -> str:
    """Mark a tag's name for the staff panel's catalogs (``pybabel extract -k N_``)."""
    return message


@dataclass(frozen=True)
class TagDefinition:
    """One complaint tag.

    ``label`` is the English name staff read (the panel's catalogs translate it); ``sla_hours``
    the default time until its case is overdue; ``anticorruption`` whether the anti-corruption
    unit works its cases (otherwise only the region's reviewers and administrators do).
    """

    name: str
    label: str
    sla_hours: int
    anticorruption: bool
    meaning: str


TAG_DEFINITIONS: tuple[TagDefinition, ...] = (
    TagDefinition(
        "corruption",
        N_("Corruption"),
        24,
        True,
        'a bribe asked, offered or paid; "pay and it goes faster"; extortion; gifts; paid '
        "queue-jumping",
    ),
    TagDefinition(
        "hidden_service",
        N_("Hidden service"),
        48,
        True,
        "pushed into unofficial or paid extras, fees or documents the service standard does "
        "not require; sent to a paid intermediary",
    ),
    TagDefinition(
        "rudeness",
        N_("Rudeness"),
        72,
        False,
        "staff or guards rude, disrespectful, shouting, humiliating, ignoring the citizen",
    ),
    TagDefinition(
        "paperwork_error",
        N_("Paperwork error"),
        72,
        False,
        "mistakes in issued documents or entered data; wrong person or IIN; lost application",
    ),
    TagDefinition(
        "misinformation",
        N_("Misinformation"),
        72,
        False,
        "wrong, contradictory or insufficient information; sent to the wrong office",
    ),
    TagDefinition(
        "delay",
        N_("Delay"),
        72,
        False,
        'queues, waiting, missed deadlines, documents not ready, "the system is down, come back"',
    ),
    TagDefinition(
        "digital_service",
        N_("Online service failure"),
        72,
        False,
        "the citizen's own attempt to get the service online failed or was impossible: the eGov "
        "portal or mobile app, the EDS key, SMS codes, biometric or video verification, online "
        'booking of a visit, an online service missing or broken. Not "the system is down at '
        'the centre" (delay), a question on how to do something online, or praise of the app',
    ),
)
"""Every tag, most severe first: the queue's order and the classifier's output order."""

TAGS: tuple[str, ...] = tuple(definition.name for definition in TAG_DEFINITIONS)
SEVERITY: tuple[str, ...] = TAGS
"""The severity order: a case's priority is the rank of its worst tag here (0 = worst)."""

LOW_RATING = "low_rating"
"""The SLA key of a case flagged only by a low rating (priority just past the tags)."""
LOW_RATING_PRIORITY = len(TAGS)
LOW_RATING_SLA_HOURS = 120

DEFAULT_SLA_HOURS: Mapping[str, int] = {
    **{definition.name: definition.sla_hours for definition in TAG_DEFINITIONS},
    LOW_RATING: LOW_RATING_SLA_HOURS,
}
"""Hours until a case is overdue, by its worst tag (or ``low_rating``)."""

TAG_LABELS: Mapping[str, str] = {d.name: d.label for d in TAG_DEFINITIONS}

ANTICORRUPTION_TAGS: frozenset[str] = frozenset(d.name for d in TAG_DEFINITIONS if d.anticorruption)


def _anticorruption_max_priority() -> int:
    """The last priority the anti-corruption unit sees; its tags must lead the severity order,
    because the queue scopes it by ``priority <= n`` (an index range, not a tag list)."""
    ranks = sorted(TAGS.index(name) for name in ANTICORRUPTION_TAGS)
    if ranks != list(range(len(ranks))):
        raise ValueError("the anti-corruption unit's tags must be the most severe ones")
    return len(ranks) - 1


ANTICORRUPTION_MAX_PRIORITY = _anticorruption_max_priority()
"""Priority 0 (corruption and direct reports) up to this rank is the anti-corruption unit's."""
