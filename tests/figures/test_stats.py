"""Wilson intervals against published values, suppression at the boundary, change flags."""

from __future__ import annotations

import pytest

from admin.figures.indicators import IndicatorResult, IndicatorSpec
from admin.figures.report import FigureRow, export_record, period_months, shift_month
from admin.figures.stats import Share, significant_change, wilson, z_value

# Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I,
# method 3 (Wilson score without continuity correction).
NEWCOMBE = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
    (29, 29, 0.8830, 1.0000),
]


@pytest.mark.parametrize(("k", "n", "low", "high"), NEWCOMBE)
def test_wilson_matches_published_values(k: int, n: int, low: float, high: float) -> None:
    got_low, got_high = wilson(k, n)
    assert got_low == pytest.approx(low, abs=5e-5)
    assert got_high == pytest.approx(high, abs=5e-5)


def test_wilson_edges() -> None:
    assert z_value() == pytest.approx(1.959964, abs=1e-6)
    assert wilson(0, 0) == (0.0, 1.0)
    low, high = wilson(5, 10)
    assert low == pytest.approx(1 - high)  # symmetric around one half
    with pytest.raises(ValueError):
        wilson(11, 10)


def _row(responses: int, good: int) -> FigureRow:
    counts = {
        "responses": responses,
        "rated": responses,
        "rating_sum": 5 * good + 1 * (responses - good),
        "rating_5": good,
        "rating_1": responses - good,
        "politeness_answered": responses,
        "politeness_positive": good,
    }
    return FigureRow(level="office", counts=counts, min_cell=10, region="astana", office="AST-01")


def test_suppression_at_the_boundary() -> None:
    below, at = _row(9, 9), _row(10, 9)
    assert below.suppressed and not at.suppressed
    hidden, shown = export_record(below), export_record(at)
    assert hidden["suppressed"] is True and hidden["responses"] == "n < 10"
    identity = {"level", "region", "office", "suppressed", "responses"}
    assert all(value is None for key, value in hidden.items() if key not in identity), hidden
    assert shown["responses"] == 10 and shown["csat_base"] == 10
    assert shown["csat"] == pytest.approx(0.9)
    assert shown["csat_low"] == pytest.approx(wilson(9, 10)[0])
    assert shown["politeness_high"] == pytest.approx(wilson(9, 10)[1])


def test_change_flagged_only_when_intervals_do_not_overlap() -> None:
    assert significant_change(Share(50, 100), Share(56, 100)) is None  # overlapping
    assert significant_change(Share(50, 100), Share(80, 100)) == "up"
    assert significant_change(Share(800, 1000), Share(700, 1000)) == "down"
    assert significant_change(Share(0, 0), Share(5, 10)) is None


def test_indicator_status_uses_the_interval() -> None:
    spec = IndicatorSpec("ethics", "politeness", 0.74, {2026: 0.78})
    assert IndicatorResult(spec, Share(900, 1000), 2026, False).status == "met"
    assert IndicatorResult(spec, Share(700, 1000), 2026, False).status == "below"
    assert IndicatorResult(spec, Share(78, 100), 2026, False).status == "unclear"
    assert IndicatorResult(spec, Share(78, 100), 2030, False).status == "no_target"
    assert IndicatorResult(spec, Share(7, 9), 2026, True).status == "no_data"


def test_periods() -> None:
    assert shift_month("2026-01", -1) == "2025-12"
    assert shift_month("2026-12", 1) == "2027-01"
    assert period_months("2026-02", "quarter") == ["2025-12", "2026-01", "2026-02"]
    assert len(period_months("2026-02", "year")) == 12
