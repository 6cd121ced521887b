"""The agency's indicators: which share each one is, and its baseline and yearly targets.

Targets come from configuration (``PIKIR_REPORTS__…``); this module only knows how to compare.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from admin.figures.stats import Share
from vocabulary import DEFAULT_TIMEZONE


@dataclass(frozen=True)
class IndicatorSpec:
    """An indicator: its key, the share it is computed from, baseline and targets by year."""

    key: str
    source: str  # "csat" or a criterion name
    baseline: float | None = None
    targets: Mapping[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class FiguresConfig:
    """What the figures need from the settings."""

    min_cell: int = 10
    timezone: str = DEFAULT_TIMEZONE
    indicators: tuple[IndicatorSpec, ...] = ()


def default_indicators(
    ethics_baseline: float | None = 0.74,
    ethics_targets: Mapping[int, float] | None = None,
    timeliness_baseline: float | None = None,
    timeliness_targets: Mapping[int, float] | None = None,
    csat_baseline: float | None = None,
    csat_targets: Mapping[int, float] | None = None,
) -> tuple[IndicatorSpec, ...]:
    """The three indicators of the agency's programme with the given baselines and targets."""
    return (
        IndicatorSpec("ethics", "politeness", ethics_baseline, dict(ethics_targets or {})),
        IndicatorSpec(
            "time_efficiency", "waiting", timeliness_baseline, dict(timeliness_targets or {})
        ),
        IndicatorSpec("csat", "csat", csat_baseline, dict(csat_targets or {})),
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
