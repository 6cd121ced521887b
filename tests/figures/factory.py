"""Random but valid feedback, tags and cases for the figures tests."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete

from storage.database import Database
from storage.models import (
    CRITERIA,
    AggregateWatermark,
    Case,
    CaseStatus,
    Channel,
    Feedback,
    Language,
    MonthlyAggregate,
    Tag,
    TagSource,
)
from storage.repositories.feedback import new_reference
from storage.uow import UnitOfWork
from vocabulary import SEVERITY

MONTH_STARTS = {
    "2026-08": datetime(2026, 8, 1, tzinfo=UTC),
    "2026-09": datetime(2026, 9, 1, tzinfo=UTC),
    "2026-10": datetime(2026, 10, 1, tzinfo=UTC),
}


@dataclass
class FeedbackSpec:
    """Everything random about one feedback row."""

    month: str
    office: int | None
    service: int | None
    channel: Channel
    language: Language
    rating: int | None
    criteria: dict[str, bool | None]
    has_text: bool
    model_tags: dict[str, bool] = field(default_factory=dict)
    staff_tags: list[tuple[str, bool]] = field(default_factory=list)
    case_status: CaseStatus | None = None
    first_action_minutes: int | None = None
    answered: bool = False
    minute: int = 0
    direct: bool = False


def random_spec(rng: random.Random, offices: int = 4, services: int = 3) -> FeedbackSpec:
    """One random feedback over a few offices and services so that cells repeat."""
    spec = FeedbackSpec(
        month=rng.choice(list(MONTH_STARTS)),
        office=rng.choice([None, *range(offices)]),
        service=rng.choice([None, *range(services)]),
        channel=rng.choice([Channel.TELEGRAM, Channel.WEB, Channel.IMPORT]),
        language=rng.choice(list(Language)),
        rating=rng.choice([None, 1, 2, 3, 4, 5, 5, 4]),
        criteria={name: rng.choice([None, True, False]) for name in CRITERIA},
        has_text=rng.random() < 0.5,
        minute=rng.randrange(60 * 24 * 27),
    )
    if spec.has_text:
        spec.model_tags = {tag: rng.random() < 0.3 for tag in SEVERITY}
    for _ in range(rng.choice([0, 0, 1, 2])):
        spec.staff_tags.append((rng.choice(SEVERITY), rng.random() < 0.5))
    if rng.random() < 0.4:
        spec.case_status = rng.choice(list(CaseStatus))
        spec.first_action_minutes = rng.choice([None, rng.randrange(1, 5000)])
        spec.answered = rng.random() < 0.5
    return spec


async def insert_specs(
    database: Database, specs: Sequence[FeedbackSpec], *, stamp: datetime | None = None
) -> list[int]:
    """Insert the rows; returns the feedback ids. ``stamp`` sets ``updated_at`` of new rows."""
    async with UnitOfWork(database.sessions) as uow:
        offices = list(await uow.reference.offices())
        services = list(await uow.reference.services())
        made: list[Feedback] = []
        for spec in specs:
            created = MONTH_STARTS[spec.month] + timedelta(minutes=spec.minute)
            office = offices[spec.office] if spec.office is not None else None
            feedback = Feedback(
                ref=new_reference(),
                channel=spec.channel,
                language=spec.language,
                month=spec.month,
                office_id=office.id if office else None,
                service_id=services[spec.service].id if spec.service is not None else None,
                rating=spec.rating,
                text="some words" if spec.has_text else None,
                has_text=spec.has_text,
                is_direct_report=spec.direct,
                created_at=created,
                updated_at=stamp or created,
                **{f"crit_{k}": v for k, v in spec.criteria.items()},
            )
            tags = [
                Tag(tag=t, source=TagSource.MODEL, present=p, probability=0.5, created_at=created)
                for t, p in spec.model_tags.items()
            ]
            for order, (t, p) in enumerate(spec.staff_tags):
                tags.append(
                    Tag(
                        tag=t,
                        source=TagSource.STAFF,
                        present=p,
                        created_at=created + timedelta(hours=1 + order),
                    )
                )
            feedback.tags = tags
            if spec.case_status is not None:
                first = (
                    created + timedelta(minutes=spec.first_action_minutes)
                    if spec.first_action_minutes is not None
                    else None
                )
                feedback.case = Case(
                    status=spec.case_status,
                    priority=2,
                    region_code=office.region_code if office else None,
                    opened_at=created,
                    first_action_at=first,
                    answered_at=(first or created) + timedelta(hours=2) if spec.answered else None,
                    created_at=created,
                    updated_at=stamp or created,
                )
            uow.feedback.add(feedback)
            made.append(feedback)
        await uow.commit()
    return [f.id for f in made]


async def clear_feedback(database: Database) -> None:
    """Remove every feedback, tag, case, aggregate and the watermark."""
    async with UnitOfWork(database.sessions) as uow:
        for model in (MonthlyAggregate, AggregateWatermark, Tag, Case, Feedback):
            await uow.session.execute(delete(model))
        await uow.commit()
