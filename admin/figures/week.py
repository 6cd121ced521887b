"""The staff digest's read model: a week's responses, ratings and effective tags, counted on
the database in one place (the cases' counts are the case repository's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.figures.sql import TAGS, effective_tags
from storage.models import Feedback


@dataclass(frozen=True)
class WeekFigures:
    """Responses in the window, how many were rated, how many rated 4 or 5, and each tag."""

    responses: int
    rated: int
    good: int
    tags: dict[str, int]


async def week_figures(session: AsyncSession, since: datetime, until: datetime) -> WeekFigures:
    """The figures of the feedback created in ``[since, until)``."""
    window = [Feedback.created_at >= since, Feedback.created_at < until]
    counts = (
        await session.execute(
            select(
                func.count(),
                func.count(Feedback.rating),
                func.coalesce(func.sum(case((Feedback.rating >= 4, 1), else_=0)), 0),
            ).where(*window)
        )
    ).one()
    tags = effective_tags(None, window)
    tag_counts = (
        await session.execute(select(*(func.coalesce(func.sum(tags.c[name]), 0) for name in TAGS)))
    ).one()
    responses, rated, good = (int(value or 0) for value in counts)
    return WeekFigures(
        responses,
        rated,
        good,
        dict(zip(TAGS, (int(value or 0) for value in tag_counts), strict=True)),
    )
