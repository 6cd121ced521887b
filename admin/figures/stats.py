"""Shares with their 95% Wilson score intervals, and when a change is worth flagging."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from statistics import NormalDist


@cache
def z_value(confidence: float = 0.95) -> float:
    """The two-sided normal quantile for ``confidence`` (1.959964… for 95%).

    The standard library's quantile, not scipy's: importing scipy.stats costs seconds at start.
    """
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def wilson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of ``successes / trials``; (0, 1) when there are no trials."""
    if trials <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= trials:
        raise ValueError(f"successes {successes} outside 0..{trials}")
    z = z_value(confidence)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Share:
    """``successes`` out of ``trials`` with its interval; ``value`` is None without trials."""

    successes: int
    trials: int

    @property
    def value(self) -> float | None:
        """The share as a fraction 0–1."""
        return self.successes / self.trials if self.trials else None

    @property
    def interval(self) -> tuple[float, float]:
        """The 95% Wilson interval."""
        return wilson(self.successes, self.trials)

    @property
    def low(self) -> float | None:
        """The interval's lower bound (None without trials)."""
        return self.interval[0] if self.trials else None

    @property
    def high(self) -> float | None:
        """The interval's upper bound (None without trials)."""
        return self.interval[1] if self.trials else None


def significant_change(before: Share, after: Share) -> str | None:
    """``"up"`` or ``"down"`` when the two intervals do not overlap, else None."""
    if not before.trials or not after.trials:
        return None
    low_before, high_before = before.interval
    low_after, high_after = after.interval
    if low_after > high_before:
        return "up"
    if high_after < low_before:
        return "down"
    return None
