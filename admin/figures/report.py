"""Roll-ups of the stored aggregates into the rows of the report and the exports.

A :class:`FigureRow` is one roll-up cell (the country, a region, an office or a service over a
period): its counts, and the shares with Wilson intervals derived from them. A row with fewer
responses than the minimum cell size is suppressed, and so is any row withheld so that a small
one cannot be recovered by subtraction (:mod:`admin.figures.suppression`): a suppressed row
publishes nothing but its mark. Its counts still add up into its parents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from admin.figures.indicators import FiguresConfig, IndicatorResult
from admin.figures.sql import TAGS
from admin.figures.stats import Share, significant_change
from admin.figures.suppression import (
    COUNTRY,
    Key,
    office_key,
    period_withheld,
    region_key,
    service_key,
    table_of,
    withheld,
)
from storage.models import CRITERIA
from storage.uow import UnitOfWork

LEVELS: Mapping[str, tuple[str, ...]] = {
    "country": (),
    "region": ("region_code",),
    "office": ("region_code", "office_code"),
    "service": ("service_code",),
}
PERIODS: Mapping[str, int] = {"month": 1, "quarter": 3, "year": 12}


def shift_month(month: str, delta: int) -> str:
    """``YYYY-MM`` moved by ``delta`` months."""
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def period_months(month: str, period: str = "month") -> list[str]:
    """The months of the period ending with ``month``, oldest first."""
    length = PERIODS[period]
    return [shift_month(month, -back) for back in range(length - 1, -1, -1)]


@dataclass
class FigureRow:
    """One roll-up cell with its counts and derived shares."""

    level: str
    counts: Mapping[str, Any]
    min_cell: int
    region: str | None = None
    office: str | None = None
    service: str | None = None
    month: str | None = None
    withheld: bool = False

    def count(self, name: str) -> int:
        """A summed count (0 when absent)."""
        return int(self.counts.get(name) or 0)

    @property
    def responses(self) -> int:
        """How many feedback rows the cell holds."""
        return self.count("responses")

    @property
    def suppressed(self) -> bool:
        """Too few responses to publish, or withheld to protect a small cell."""
        return self.withheld or self.responses < self.min_cell

    @property
    def mark(self) -> str:
        """What a suppressed cell publishes instead of its numbers."""
        return f"n < {self.min_cell}"

    @property
    def key(self) -> Key:
        """The cell's key in :mod:`admin.figures.suppression`."""
        if self.level == "region":
            return region_key(self.region)
        if self.level == "office":
            return office_key(self.region, self.office)
        if self.level == "service":
            return service_key(self.service)
        return COUNTRY

    @property
    def mean_rating(self) -> float | None:
        """The mean of the given ratings."""
        rated = self.count("rated")
        return self.count("rating_sum") / rated if rated else None

    @property
    def csat(self) -> Share:
        """Share of ratings 4–5 among the given ratings."""
        return Share(self.count("rating_4") + self.count("rating_5"), self.count("rated"))

    def criterion(self, name: str) -> Share:
        """Share positive among those who answered the criterion."""
        return Share(self.count(f"{name}_positive"), self.count(f"{name}_answered"))

    def source_share(self, source: str) -> Share:
        """The share an indicator is computed from: ``csat`` or a criterion."""
        return self.csat if source == "csat" else self.criterion(source)

    def tag_share(self, tag: str) -> Share:
        """Share of responses carrying the tag."""
        return Share(self.count(f"tag_{tag}"), self.responses)

    @property
    def complaints(self) -> Share:
        """Share of responses with at least one complaint tag."""
        return Share(self.count("complaints"), self.responses)

    @property
    def resolved(self) -> Share:
        """Share of opened cases resolved."""
        return Share(self.count("cases_resolved"), self.count("cases_opened"))

    @property
    def mean_first_action_hours(self) -> float | None:
        """Mean hours from a case's opening to the first staff action."""
        n = self.count("first_action_count")
        return float(self.counts["first_action_seconds_sum"]) / n / 3600 if n else None

    @property
    def distribution(self) -> list[int]:
        """Counts of ratings 1 to 5."""
        return [self.count(f"rating_{value}") for value in range(1, 6)]


@dataclass
class Report:
    """Everything the dashboard and the exports show for one period."""

    month: str
    period: str
    months: list[str]
    config: FiguresConfig
    country: FigureRow
    previous: FigureRow
    regions: list[FigureRow] = field(default_factory=list)
    offices: list[FigureRow] = field(default_factory=list)
    services: list[FigureRow] = field(default_factory=list)
    trend: list[FigureRow] = field(default_factory=list)
    previous_offices: dict[str, FigureRow] = field(default_factory=dict)

    @property
    def indicators(self) -> list[IndicatorResult]:
        """Each configured indicator for the period against its target."""
        year = int(self.month[:4])
        return [
            IndicatorResult(
                spec, self.country.source_share(spec.source), year, self.country.suppressed
            )
            for spec in self.config.indicators
        ]

    def change(self, source: str) -> str | None:
        """``up``/``down`` against the previous period, only when the intervals do not overlap."""
        if self.country.suppressed or self.previous.suppressed:
            return None
        return significant_change(
            self.previous.source_share(source), self.country.source_share(source)
        )

    def office_change(self, row: FigureRow) -> str | None:
        """The office's CSAT change against the previous period (flagged as :meth:`change`)."""
        before = self.previous_offices.get(row.office or "")
        if before is None or before.suppressed or row.suppressed:
            return None
        return significant_change(before.csat, row.csat)

    def rows(self, level: str) -> list[FigureRow]:
        """The rows of a level, as exported."""
        return {
            "country": [self.country],
            "region": self.regions,
            "office": self.offices,
            "service": self.services,
        }[level]


def _rows(level: str, sums: Sequence[Mapping[str, Any]], min_cell: int) -> list[FigureRow]:
    rows = []
    for counts in sums:
        rows.append(
            FigureRow(
                level=level,
                counts=counts,
                min_cell=min_cell,
                region=counts.get("region_code"),
                office=counts.get("office_code"),
                service=counts.get("service_code"),
                month=counts.get("month"),
            )
        )
    return rows


def _empty(level: str, min_cell: int) -> FigureRow:
    return FigureRow(level=level, counts={}, min_cell=min_cell)


LEVEL_KEY_NAMES = frozenset({"month", "region_code", "office_code", "service_code"})
TREND_COLUMNS = (
    "responses",
    "rated",
    "rating_4",
    "rating_5",
    "politeness_answered",
    "politeness_positive",
)


def roll_up(rows: Sequence[Mapping[str, Any]], key: str | None) -> list[dict[str, Any]]:
    """Sum count rows by ``key`` (None: everything into one row); exact, counts only."""
    sums: dict[Any, dict[str, Any]] = {}
    for row in rows:
        group = row.get(key) if key else None
        total = sums.setdefault(group, {key: group} if key else {})
        for name, value in row.items():
            if name in LEVEL_KEY_NAMES or value is None:
                continue
            total[name] = total.get(name, 0) + value
    return [sums[group] for group in sorted(sums, key=lambda g: g or "")]


async def build_report(
    uow: UnitOfWork, month: str, config: FiguresConfig, period: str = "month"
) -> Report:
    """Read the stored aggregates and roll them up for the period ending with ``month``.

    The office rows (which include the "no office" row) are summed into regions and the
    country here, so a page needs four queries: offices now and before, services, the trend.
    """
    months = period_months(month, period)
    previous_months = [shift_month(m, -len(months)) for m in months]
    repo = uow.aggregates
    office_sums = await repo.totals(months, by=LEVELS["office"])
    before_sums = await repo.totals(previous_months, by=LEVELS["office"])
    trend_months = [shift_month(month, -back) for back in range(11, -1, -1)]
    by_month = {
        row["month"]: row
        for row in await repo.totals(trend_months, by=("month",), columns=TREND_COLUMNS)
    }
    service_sums = await repo.totals(months, by=LEVELS["service"])
    country = _rows("country", roll_up(office_sums, None), config.min_cell)
    previous = _rows("country", roll_up(before_sums, None), config.min_cell)
    offices = _rows("office", office_sums, config.min_cell)
    before = _rows("office", before_sums, config.min_cell)
    report = Report(
        month=month,
        period=period,
        months=months,
        config=config,
        country=country[0] if country else _empty("country", config.min_cell),
        previous=previous[0] if previous else _empty("country", config.min_cell),
        regions=_rows("region", roll_up(office_sums, "region_code"), config.min_cell),
        offices=[row for row in offices if row.office],
        services=[row for row in _rows("service", service_sums, config.min_cell) if row.service],
        trend=[
            FigureRow("country", by_month.get(m, {}), config.min_cell, month=m)
            for m in trend_months
        ],
        previous_offices={row.office or "": row for row in before},
    )
    hidden = await _withheld(uow, months, office_sums, service_sums, config.min_cell)
    for row in [report.country, *report.regions, *report.offices, *report.services]:
        row.withheld = row.key in hidden
    return report


async def _withheld(
    uow: UnitOfWork,
    months: Sequence[str],
    office_sums: Sequence[Mapping[str, Any]],
    service_sums: Sequence[Mapping[str, Any]],
    min_cell: int,
) -> frozenset[Key]:
    """The cells of the period to withhold; for a quarter or a year, with each month's."""
    period = table_of(office_sums, service_sums)
    if len(months) == 1:
        return withheld(period, min_cell)
    repo = uow.aggregates
    by_office = await repo.totals(months, by=("month", *LEVELS["office"]), columns=("responses",))
    by_service = await repo.totals(months, by=("month", *LEVELS["service"]), columns=("responses",))
    tables = [
        table_of(
            [row for row in by_office if row["month"] == m],
            [row for row in by_service if row["month"] == m],
        )
        for m in months
    ]
    return period_withheld(period, tables, min_cell)


def unsuppressed(report: Report) -> Report:
    """The report with every cell's numbers shown, for the administrators' internal page."""

    def bare(row: FigureRow) -> FigureRow:
        return replace(row, min_cell=0, withheld=False)

    return replace(
        report,
        country=bare(report.country),
        previous=bare(report.previous),
        regions=[bare(row) for row in report.regions],
        offices=[bare(row) for row in report.offices],
        services=[bare(row) for row in report.services],
        trend=[bare(row) for row in report.trend],
        previous_offices={key: bare(row) for key, row in report.previous_offices.items()},
    )


def export_record(row: FigureRow, indicators: Sequence[Any] = ()) -> dict[str, Any]:
    """The flat export record of a row: shares as fractions with ``_low``/``_high`` bounds.

    ``responses`` counts every feedback (direct reports included); ``csat_base`` the rated
    visits CSAT is computed over. A suppressed row publishes its codes, the mark (``n < 10``)
    in ``responses`` and ``suppressed``; every other field is left empty.
    """
    record: dict[str, Any] = {"level": row.level}
    if row.level in ("region", "office"):
        record["region"] = row.region or None
    if row.level == "office":
        record["office"] = row.office or None
    if row.level == "service":
        record["service"] = row.service or None
    record["responses"] = row.responses
    record["csat_base"] = row.count("rated")
    record["mean_rating"] = row.mean_rating
    shares: list[tuple[str, Share]] = [("csat", row.csat)]
    shares += [(name, row.criterion(name)) for name in CRITERIA]
    shares += [(f"indicator_{spec.key}", row.source_share(spec.source)) for spec in indicators]
    shares += [("complaints_share", row.complaints)]
    for name, share in shares:
        hidden = share.trials == 0
        record[name] = None if hidden else share.value
        record[f"{name}_low"] = None if hidden else share.low
        record[f"{name}_high"] = None if hidden else share.high
    record["complaints"] = row.count("complaints")
    for tag in TAGS:
        record[f"tag_{tag}"] = row.count(f"tag_{tag}")
    record["with_text"] = row.count("with_text")
    record["cases_opened"] = row.count("cases_opened")
    record["cases_answered"] = row.count("cases_answered")
    record["cases_resolved"] = row.count("cases_resolved")
    hours = row.mean_first_action_hours
    record["first_action_hours_mean"] = None if hours is None else round(hours, 3)
    record["suppressed"] = row.suppressed
    if row.suppressed:
        codes = {"level", "region", "office", "service", "suppressed"}
        record = {k: v if k in codes else None for k, v in record.items()}
        record["responses"] = row.mark
    return record


async def reference_names(uow: UnitOfWork, language: str) -> dict[str, str]:
    """Names of regions, offices and services in ``language``, keyed ``"office:AST-01"``."""
    attribute = f"name_{language if language in ('kk', 'ru', 'en') else 'en'}"
    names: dict[str, str] = {}
    for region in await uow.reference.regions():
        names[f"region:{region.code}"] = getattr(region, attribute)
    for office in await uow.reference.offices(active_only=False):
        names[f"office:{office.code}"] = getattr(office, attribute)
    for service in await uow.reference.services(active_only=False):
        names[f"service:{service.code}"] = getattr(service, attribute)
    return names
