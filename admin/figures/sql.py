"""SQL building blocks of the aggregates that both dialects understand.

The effective-tag rule (the newest staff correction wins over the model's ``present``) is a
window function; the median time to first staff action is ``percentile_cont`` on PostgreSQL and
window functions on SQLite (which has no median aggregate). The counting happens on the
database, never row by row in Python.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ARRAY, BigInteger, and_, bindparam, case, func, literal, select, tuple_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import ColumnElement, Select, Subquery
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import Float, String

from storage.models import Case, CaseStatus, Feedback, Office, Service, Tag, TagSource
from vocabulary import CRITERIA, TAGS
from vocabulary.effective import RANKING


class seconds_between(FunctionElement[float]):
    """``later - earlier`` in seconds, as a float, on SQLite and PostgreSQL."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between, "postgresql")
def _seconds_pg(element: seconds_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - "
        f"{compiler.process(earlier, **kw)}))::float8"
    )


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"((julianday({compiler.process(later, **kw)}) - "
        f"julianday({compiler.process(earlier, **kw)})) * 86400.0)"
    )


class bytewise(FunctionElement[str]):
    """A text key compared byte by byte: ``COLLATE "C"`` on PostgreSQL, SQLite's default.

    Grouping and partitioning only need equal keys together, not a language's sort order, and
    byte comparison is several times faster than a locale's collation.
    """

    type = String()
    inherit_cache = True


@compiles(bytewise, "postgresql")
def _bytewise_pg(element: bytewise, compiler: Any, **kw: Any) -> str:
    (value,) = list(element.clauses)
    return f'({compiler.process(value, **kw)} COLLATE "C")'


@compiles(bytewise, "sqlite")
def _bytewise_sqlite(element: bytewise, compiler: Any, **kw: Any) -> str:
    (value,) = list(element.clauses)
    return str(compiler.process(value, **kw))


def _month_filter(months: list[str] | None) -> list[ColumnElement[bool]]:
    return [] if months is None else [Feedback.month.in_(months)]


def _cell_key(*, grouping: bool = False) -> list[ColumnElement[Any]]:
    """A feedback row's cell: month, office, service, channel, language (0 for "none").

    For ``GROUP BY`` (``grouping``) the text keys are compared byte by byte (see
    :class:`bytewise`); to match stored cells they are used as they are.
    """
    as_key = bytewise if grouping else (lambda column: column)
    return [
        as_key(Feedback.month).label("month"),
        func.coalesce(Feedback.office_id, 0).label("office_key"),
        func.coalesce(Feedback.service_id, 0).label("service_key"),
        as_key(Feedback.channel).label("channel"),
        as_key(Feedback.language).label("language"),
    ]


def feedback_ids(ids: Sequence[int], dialect: str) -> Select[Any]:
    """``SELECT`` of the given feedback ids, sent as one parameter however many there are.

    An array on PostgreSQL, a JSON list read by ``json_each`` on SQLite: a statement with one
    bound value per id would hit the drivers' parameter limits on a busy day.
    """
    if dialect == "postgresql":
        values = bindparam("feedback_ids", list(ids), type_=ARRAY(BigInteger))
        return select(func.unnest(values).column_valued("id"))
    listed = func.json_each(bindparam("feedback_ids", json.dumps(list(ids)))).table_valued("value")
    return select(listed.c.value)


def cells_of(ids: Select[Any]) -> Select[Any]:
    """The distinct cells (month and id keys) that the feedback rows ``ids`` fall in."""
    return select(*_cell_key()).where(Feedback.id.in_(ids)).distinct()


def cell_codes(cells: Select[Any]) -> Select[Any]:
    """``cells`` keyed as the stored aggregates are: by codes ("" for none) instead of ids."""
    keyed = cells.subquery("cells")
    return (
        select(
            keyed.c.month,
            func.coalesce(Office.code, ""),
            func.coalesce(Service.code, ""),
            keyed.c.channel,
            keyed.c.language,
        )
        .select_from(keyed)
        .outerjoin(Office, Office.id == keyed.c.office_key)
        .outerjoin(Service, Service.id == keyed.c.service_key)
    )


def in_cells(cells: Select[Any]) -> ColumnElement[bool]:
    """The feedback row lies in one of ``cells`` (as returned by :func:`cells_of`)."""
    return tuple_(*_cell_key()).in_(cells)


def _in_id_range(
    column: InstrumentedAttribute[int], months: list[str] | None
) -> list[ColumnElement[bool]]:
    """``column`` within the lowest and highest feedback id of ``months``.

    Redundant with the join on the month, but ids grow with time, so a month's feedback is a
    narrow id range and the database can read tags and cases by index instead of scanning them.
    """
    if months is None:
        return []
    bounds = select(func.min(Feedback.id), func.max(Feedback.id)).where(Feedback.month.in_(months))
    low = bounds.with_only_columns(func.min(Feedback.id)).scalar_subquery()
    high = bounds.with_only_columns(func.max(Feedback.id)).scalar_subquery()
    return [column.between(low, high)]


def effective_tags(months: list[str] | None, where: Sequence[ColumnElement[bool]] = ()) -> Subquery:
    """One row per tagged feedback: a 0/1 column per tag and ``any_tag``.

    A tag counts when its newest staff row says present, or, without a staff row, when the
    newest model row does (:mod:`vocabulary.effective`; the window's order is built from its
    ``RANKING``). ``months`` narrows the tags read to the months' id range (the caller
    joins to its feedback, which drops the rest); ``where`` filters on the feedback itself.
    """
    components: dict[str, Any] = {
        "staff_first": case((Tag.source == TagSource.STAFF, 1), else_=0),
        "created_at": Tag.created_at,
        "id": Tag.id,
    }
    ranked_query = select(
        Tag.feedback_id,
        Tag.tag,
        Tag.present,
        func.row_number()
        .over(
            partition_by=(Tag.feedback_id, bytewise(Tag.tag)),
            order_by=tuple(components[name].desc() for name in RANKING),
        )
        .label("rank"),
    ).where(Tag.tag.in_(TAGS), *_in_id_range(Tag.feedback_id, months))
    if where:
        ranked_query = ranked_query.join(Feedback, Feedback.id == Tag.feedback_id).where(
            *_month_filter(months), *where
        )
    ranked = ranked_query.subquery("ranked_tags")
    present = ranked.c.present.is_(True)
    columns = [
        func.max(case((and_(ranked.c.tag == name, present), 1), else_=0)).label(name)
        for name in TAGS
    ]
    return (
        select(
            ranked.c.feedback_id,
            *columns,
            func.max(case((present, 1), else_=0)).label("any_tag"),
        )
        .where(ranked.c.rank == 1)
        .group_by(ranked.c.feedback_id)
        .subquery("effective_tags")
    )


# Cells are grouped by ids (cheap to sort and hash) and get their codes afterwards; 0 stands
# for "no office" / "no service" so the keys are never NULL and join with plain equality.
GROUP_KEYS: tuple[str, ...] = ("month", "office_key", "service_key", "channel", "language")


def _with_codes(grouped: Subquery, extra: Sequence[ColumnElement[Any]] = ()) -> Select[Any]:
    """The grouped rows with their cell keys as codes, in the table's column order."""
    measures = [c for c in grouped.c if c.name not in GROUP_KEYS]
    return (
        select(
            grouped.c.month,
            func.coalesce(Office.region_code, "").label("region_code"),
            func.coalesce(Office.code, "").label("office_code"),
            func.coalesce(Service.code, "").label("service_code"),
            grouped.c.channel,
            grouped.c.language,
            *measures,
            *extra,
        )
        .select_from(grouped)
        .outerjoin(Office, Office.id == grouped.c.office_key)
        .outerjoin(Service, Service.id == grouped.c.service_key)
    )


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def median_first_action(
    months: list[str] | None, dialect: str, where: Sequence[ColumnElement[bool]] = ()
) -> Subquery:
    """The median seconds from a case's opening to the first staff action, per cell.

    Only cases with a first action are read, so this is a small pass beside the counts.
    PostgreSQL has ``percentile_cont``; SQLite takes the middle row(s) by window functions.
    """
    seconds = seconds_between(Case.first_action_at, Case.opened_at)
    keys = _cell_key(grouping=True)
    acted = and_(Case.feedback_id == Feedback.id, *_in_id_range(Case.feedback_id, months))
    if dialect == "postgresql":
        return (
            select(*keys, func.percentile_cont(0.5).within_group(seconds).label("median"))
            .select_from(Feedback)
            .join(Case, acted)
            .where(Case.first_action_at.is_not(None), *_month_filter(months), *where)
            .group_by(*keys)
            .subquery("median_actions")
        )
    ordered = (
        select(
            *keys,
            seconds.label("seconds"),
            func.row_number()
            .over(partition_by=keys, order_by=(seconds, Case.id))
            .label("position"),
            func.count().over(partition_by=keys).label("n"),
        )
        .select_from(Feedback)
        .join(Case, acted)
        .where(Case.first_action_at.is_not(None), *_month_filter(months), *where)
        .subquery("ordered_actions")
    )
    # The middle one (odd n) or the middle two (even n): 2·position ∈ [n, n + 2].
    middle = and_(2 * ordered.c.position >= ordered.c.n, 2 * ordered.c.position <= ordered.c.n + 2)
    return (
        select(
            *(ordered.c[key] for key in GROUP_KEYS),
            func.avg(ordered.c.seconds).label("median"),
        )
        .where(middle)
        .group_by(*(ordered.c[key] for key in GROUP_KEYS))
        .subquery("median_actions")
    )


def cell_counts(months: list[str] | None, where: Sequence[ColumnElement[bool]] = ()) -> Select[Any]:
    """``SELECT`` of every counted column of ``monthly_aggregates`` for the given months.

    ``None`` means every month; ``where`` narrows the feedback (to some cells, say). Rows are
    keyed by :data:`GROUP_KEYS` (ids, not codes).
    """
    tags = effective_tags(months, where)
    seconds = seconds_between(Case.first_action_at, Case.opened_at)
    rating = Feedback.rating
    measures: list[ColumnElement[Any]] = [
        func.count().label("responses"),
        func.count(rating).label("rated"),
        func.coalesce(func.sum(rating), 0).label("rating_sum"),
        *(_count_if(rating == value).label(f"rating_{value}") for value in range(1, 6)),
    ]
    for name in CRITERIA:
        column = getattr(Feedback, f"crit_{name}")
        measures.append(_count_if(column.is_not(None)).label(f"{name}_answered"))
        measures.append(_count_if(column.is_(True)).label(f"{name}_positive"))
    measures += [
        _count_if(Feedback.has_text.is_(True)).label("with_text"),
        _count_if(tags.c.any_tag == 1).label("complaints"),
        *(func.coalesce(func.sum(tags.c[name]), 0).label(f"tag_{name}") for name in TAGS),
        func.count(Case.id).label("cases_opened"),
        func.count(Case.answered_at).label("cases_answered"),
        _count_if(Case.status == CaseStatus.RESOLVED).label("cases_resolved"),
        func.count(Case.first_action_at).label("first_action_count"),
        func.coalesce(func.sum(seconds), literal(0.0)).label("first_action_seconds_sum"),
    ]
    keys = _cell_key(grouping=True)
    return (
        select(*keys, *measures)
        .select_from(Feedback)
        .outerjoin(
            Case, and_(Case.feedback_id == Feedback.id, *_in_id_range(Case.feedback_id, months))
        )
        .outerjoin(tags, tags.c.feedback_id == Feedback.id)
        .where(*_month_filter(months), *where)
        .group_by(*keys)
    )


def cells_with_median(
    months: list[str] | None, dialect: str, where: Sequence[ColumnElement[bool]] = ()
) -> tuple[Select[Any], list[str]]:
    """The counts and each cell's median; returns the statement and its column names.

    The median is a separate pass joined to the counts: an ordered-set aggregate in the counts'
    ``GROUP BY`` would force PostgreSQL to sort every row of the months instead of hashing them.
    """
    counts = cell_counts(months, where).subquery("cell_counts")
    median = median_first_action(months, dialect, where)
    joined = and_(*(counts.c[key] == median.c[key] for key in GROUP_KEYS))
    grouped = (
        select(*counts.c, median.c.median.label("first_action_seconds_median"))
        .select_from(counts.outerjoin(median, joined))
        .subquery("cells")
    )
    statement = _with_codes(grouped)
    return statement, [column.name for column in statement.selected_columns]
