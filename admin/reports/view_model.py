"""Turning a :class:`Report` into what the dashboard shows: formatted shares, ranked offices,
chart points and drill-down links. Kept apart from the handlers so it can be tested alone."""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from admin.figures.labels import label
from admin.figures.report import FigureRow, Report
from admin.figures.sql import TAGS
from admin.figures.stats import Share
from admin.reports.chart_cache import Point
from storage.models import CRITERIA


def percent(value: float | None) -> str:
    """``0.7834`` → ``78.3%``; a dash for no value."""
    return "–" if value is None else f"{value * 100:.1f}%"


@dataclass(frozen=True)
class ShareView:
    """A share as the page prints it."""

    value: str
    interval: str
    n: int | str

    @classmethod
    def of(cls, share: Share, suppressed: bool, min_cell: int) -> ShareView:
        """Formatted share, or the suppression notice."""
        if share.value is None:
            return cls("–", "", 0)
        if suppressed:
            return cls(f"n < {min_cell}", "", "")
        return cls(
            percent(share.value), f"{percent(share.low)}–{percent(share.high)}", share.trials
        )


def cases_link(base: str | None, months: Sequence[str], **filters: str | None) -> str | None:
    """The case queue filtered to the cases behind a cell, or None for roles without cases.

    The queue filters on the day a case was opened in the agency's time zone, which is how a
    feedback's month is counted, so the period becomes the first and last day of its months;
    every status is listed, as the figures count them all. ``filters`` are the queue's own
    (``region``, ``office``, ``service``, ``channel``, ``language``, ``tag``).
    """
    if base is None or not months:
        return None
    first, last = min(months), max(months)
    year, month = (int(part) for part in last.split("-"))
    last_day = calendar.monthrange(year, month)[1]
    query = {
        "status": "all",
        "from": f"{first}-01",
        "to": f"{last}-{last_day:02d}",
        **{k: v for k, v in filters.items() if v},
    }
    return f"{base}?{urlencode(query)}"


def _view(row: FigureRow, min_cell: int) -> ShareView:
    return ShareView.of(row.csat, row.suppressed, min_cell)


def shown_count(row: FigureRow, name: str = "responses") -> int | str:
    """A count of the row as published: the suppression mark when the row is suppressed."""
    return row.mark if row.suppressed else row.count(name)


def dashboard_context(
    report: Report,
    names: Mapping[str, str],
    language: str,
    cases_base: str | None,
) -> dict[str, Any]:
    """Everything the dashboard template prints, the chart points included."""
    min_cell = report.config.min_cell
    country = report.country
    national = [
        (
            "csat",
            label("csat", language),
            ShareView.of(country.csat, country.suppressed, min_cell),
            report.change("csat"),
        )
    ]
    for name in CRITERIA:
        national.append(
            (
                name,
                label(name, language),
                ShareView.of(country.criterion(name), country.suppressed, min_cell),
                report.change(name),
            )
        )
    national.append(
        (
            "complaints",
            label("complaints_share", language),
            ShareView.of(country.complaints, country.suppressed, min_cell),
            None,
        )
    )
    indicators = [
        {
            "name": label(f"indicator_{r.spec.key}", language),
            "share": ShareView.of(r.share, r.suppressed, min_cell),
            "baseline": percent(r.spec.baseline) if r.spec.baseline is not None else "–",
            "target": percent(r.target) if r.target is not None else "–",
            "status": r.status,
            "status_label": label(r.status, language),
            "change": report.change(r.spec.source),
        }
        for r in report.indicators
    ]
    # Ranked by the interval's lower bound: five happy answers do not beat five hundred.
    shown = sorted(
        (row for row in report.offices if not row.suppressed and row.csat.trials),
        key=lambda row: (-(row.csat.low or 0), row.office or ""),
    )
    hidden = sorted(
        (row for row in report.offices if row not in shown), key=lambda r: r.office or ""
    )
    offices = [
        {
            "rank": index + 1 if row in shown else None,
            "code": row.office,
            "name": names.get(f"office:{row.office}", row.office),
            "region": names.get(f"region:{row.region}", row.region),
            "responses": shown_count(row),
            "csat": _view(row, min_cell),
            "change": report.office_change(row),
            "link": cases_link(cases_base, report.months, region=row.region, office=row.office),
        }
        for index, row in enumerate([*shown, *hidden])
    ]
    regions = [
        {
            "code": row.region,
            "name": names.get(f"region:{row.region}", row.region or "–"),
            "responses": shown_count(row),
            "csat": _view(row, min_cell),
            "ethics": ShareView.of(row.criterion("politeness"), row.suppressed, min_cell),
            "waiting": ShareView.of(row.criterion("waiting"), row.suppressed, min_cell),
            "complaints": shown_count(row, "complaints"),
            "link": cases_link(cases_base, report.months, region=row.region),
        }
        for row in sorted(report.regions, key=lambda r: r.region or "")
    ]
    services = [
        {
            "code": row.service,
            "name": names.get(f"service:{row.service}", row.service or "–"),
            "responses": shown_count(row),
            "csat": _view(row, min_cell),
            "cases": shown_count(row, "cases_opened"),
            "link": cases_link(cases_base, report.months, service=row.service),
        }
        for row in sorted(report.services, key=lambda r: -r.responses)
        if row.service
    ]
    tags = [
        {
            "code": tag,
            "name": label(f"tag_{tag}", language),
            "count": shown_count(country, f"tag_{tag}"),
            "share": ShareView.of(country.tag_share(tag), country.suppressed, min_cell),
            "link": cases_link(cases_base, report.months, tag=tag),
        }
        for tag in TAGS
    ]
    trend = [
        {
            "month": row.month,
            "responses": shown_count(row),
            "csat": _view(row, min_cell),
            "ethics": ShareView.of(row.criterion("politeness"), row.suppressed, min_cell),
        }
        for row in report.trend
    ]
    targets = {r.spec.key: r.target for r in report.indicators}
    ethics_target, csat_target = targets.get("ethics"), targets.get("csat")
    return {
        "report": report,
        "country": country,
        "responses": shown_count(country),
        "cases_opened": shown_count(country, "cases_opened"),
        "national": national,
        "indicators": indicators,
        "offices": offices,
        "regions": regions,
        "services": services,
        "tags": tags,
        "trend": trend,
        "mean_rating": f"{country.mean_rating:.2f}"
        if country.mean_rating and not country.suppressed
        else "–",
        "first_action": f"{country.mean_first_action_hours:.1f}"
        if country.mean_first_action_hours is not None and not country.suppressed
        else "–",
        "resolved": ShareView.of(country.resolved, country.suppressed, min_cell),
        "cases_link": cases_link(cases_base, report.months),
        "charts": {
            "trend": (
                "trend",
                "CSAT",
                [
                    _point(
                        row.month or "",
                        row.csat,
                        row.suppressed,
                        cases_link(cases_base, [row.month] if row.month else []),
                    )
                    for row in report.trend
                ],
                {"target": csat_target, "target_label": label("target", language)},
            ),
            "ethics_trend": (
                "trend",
                label("indicator_ethics", language),
                [
                    _point(row.month or "", row.criterion("politeness"), row.suppressed, None)
                    for row in report.trend
                ],
                {"target": ethics_target, "target_label": label("target", language)},
            ),
            "offices": (
                "ranked",
                "CSAT, 95% CI",
                [
                    _point(
                        row.office or "",
                        row.csat,
                        False,
                        cases_link(cases_base, report.months, region=row.region, office=row.office),
                    )
                    for row in shown
                ],
                {},
            ),
            "tags": (
                "bars",
                label("complaints", language),
                [
                    _point(
                        label(f"tag_{tag}", language),
                        country.tag_share(tag),
                        country.suppressed,
                        cases_link(cases_base, report.months, tag=tag),
                    )
                    for tag in TAGS
                ],
                {},
            ),
        },
    }


def _point(name: str, share: Share, suppressed: bool, url: str | None) -> Point:
    if suppressed or share.value is None:
        return Point(name, None)
    return Point(name, share.value, share.low, share.high, url)
