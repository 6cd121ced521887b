"""The effective-tag rule: which of a feedback's tag rows counts.

Rule: for each tag of a feedback, the newest staff correction wins; without one, the newest
model row does. "Newest" is the later ``created_at``, ties broken by the higher row id.

:data:`RANKING` states the rule once as the components of a sort key, best first, each "higher
wins". :func:`effective_tags` applies it in Python; the figures' SQL
(``admin.figures.sql.effective_tags``) builds its window ``ORDER BY`` from the same names, and a
test runs both over the same rows on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

STAFF = "staff"
MODEL = "model"

RANKING: tuple[str, ...] = ("staff_first", "created_at", "id")
"""Sort-key components, most significant first; the row with the highest key wins."""


class TagRow(Protocol):
    """What the rule reads of a stored tag row."""

    @property
    def tag(self) -> str: ...
    @property
    def source(self) -> Any: ...  # a str-valued enum or a str
    @property
    def present(self) -> bool: ...
    @property
    def probability(self) -> float | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def id(self) -> int | None: ...


_COMPONENTS: dict[str, Callable[[TagRow], Any]] = {
    "staff_first": lambda row: 1 if str(row.source) == STAFF else 0,
    "created_at": lambda row: row.created_at,
    "id": lambda row: row.id or 0,
}


def newest_first_key(row: TagRow) -> tuple[Any, ...]:
    """The rule's sort key of a row: the highest key among a tag's rows is the effective one."""
    return tuple(_COMPONENTS[name](row) for name in RANKING)


@dataclass(frozen=True)
class EffectiveTag:
    """A tag as it counts: present or not, the model's newest probability, who decided."""

    present: bool
    probability: float | None
    source: str

    def as_dict(self) -> dict[str, Any]:
        """The plain form the panel's templates and exports read."""
        return {"present": self.present, "probability": self.probability, "source": self.source}


def effective_tags(rows: Iterable[TagRow]) -> dict[str, EffectiveTag]:
    """Each tag of one feedback's rows as it counts (see the module's rule).

    The probability is the newest model row's even when staff decided, so the panel can show
    what the model thought.
    """
    winner: dict[str, TagRow] = {}
    probability: dict[str, tuple[tuple[Any, ...], float | None]] = {}
    for row in rows:
        key = newest_first_key(row)
        best = winner.get(row.tag)
        if best is None or key > newest_first_key(best):
            winner[row.tag] = row
        if str(row.source) == MODEL:
            known = probability.get(row.tag)
            if known is None or key > known[0]:
                probability[row.tag] = (key, row.probability)
    return {
        tag: EffectiveTag(
            present=bool(row.present),
            probability=probability.get(tag, ((), None))[1],
            source=str(row.source),
        )
        for tag, row in winner.items()
    }
