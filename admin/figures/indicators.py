"""The agency's indicators: which share each one is, and its baseline and yearly targets.

Targets come from configuration (``PIKIR_REPORTS__…``); this module only knows how to compare.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from admin.figures.stats import Share
from bot.settings import ReportSettings


@dataclass(frozen=True)
class IndicatorSpec:
    """An indicator: its key, the share it is computed from, baseline and targets by year."""

    key: str
    source: str  # "csat" or a criterion name
    baseline: float | None = None
    targets: Mapping[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class FiguresConfig:
    """What the figures need: the report settings as they are (suppression, time zone, the
    indicators' baselines and targets; every default lives in :mod:`bot.settings`)."""

    reports: ReportSettings = field(default_factory=ReportSettings)

    @property
    def min_cell(self) -> int:
        """Cells with fewer responses than this are suppressed."""
        return self.reports.min_cell

    @property
    def timezone(self) -> str:
        """The agency's time zone (months and weeks)."""
        return self.reports.timezone

    @cached_property
    def indicators(self) -> tuple[IndicatorSpec, ...]:
        """The three indicators of the agency's programme with their baselines and targets."""
        reports = self.reports
        return (
            IndicatorSpec(
                "ethics", "politeness", reports.ethics_baseline, dict(reports.ethics_targets)
            ),
            IndicatorSpec(
                "time_efficiency",
                "waiting",
                reports.timeliness_baseline,
                dict(reports.timeliness_targets),
            ),
            IndicatorSpec("csat", "csat", reports.csat_baseline, dict(reports.csat_targets)),
        )


@dataclass(frozen=True)
class IndicatorResult:
    """One indicator for a period: its share, the year's target and whether it is met."""

    spec: IndicatorSpec
    share: Share
    year: int
    suppressed: bool

    @property
    def target(self) -> float | None:
        """The target of the period's year, if one is configured."""
        return self.spec.targets.get(self.year)

    @property
    def status(self) -> str:
        """``met`` (lower bound at or above target), ``below`` (upper bound under it),
        ``unclear`` (the interval contains the target), or ``no_target`` / ``no_data``."""
        if self.share.trials == 0 or self.suppressed:
            return "no_data"
        if self.target is None:
            return "no_target"
        low, high = self.share.interval
        if low >= self.target:
            return "met"
        if high < self.target:
            return "below"
        return "unclear"
