"""Synthetic but plausible feedback so every page and report has data on a fresh install.

Complaint texts come from the classifier's hand-written messages; ratings, criteria and case
histories are drawn so that offices differ in quality and older cases are mostly closed.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.persistence.conversation_store import as_tag_scores
from bot.tagging import ClassifierTagger
from classifier.data import load_messages
from storage.database import Database
from storage.intake import FeedbackDraft, TagScores, build_feedback
from storage.models import CRITERIA, Case, CaseStatus, Channel, Language, Office, Service
from storage.types import utcnow
from storage.uow import UnitOfWork
from vocabulary import DEFAULT_TIMEZONE


@dataclass(frozen=True)
class DemoText:
    """A hand-written message usable as demo free text."""

    text: str
    language: Language
    labels: frozenset[str]


def load_demo_texts() -> list[DemoText]:
    """The labelled messages of the classifier's data set, as demo texts."""
    # Mixed Kazakh-Russian messages are offered to citizens who chose Kazakh.
    return [
        DemoText(m.text, Language("kk" if m.lang == "kk-ru" else m.lang), frozenset(m.labels))
        for m in load_messages()
    ]


async def generate_demo(
    database: Database,
    *,
    months: int = 12,
    per_month: int = 600,
    seed: int = 2017,
    timezone: str = DEFAULT_TIMEZONE,
    sla_hours: Mapping[str, int] | None = None,
    tagger: ClassifierTagger | None = None,
    now: datetime | None = None,
) -> int:
    """Insert ``months × per_month`` feedback rows ending now; returns how many were added.

    Texts are tagged by ``tagger`` (the service's own classifier) exactly as a citizen's
    complaint would be; without one the demo rows carry no tags.
    """
    rng = random.Random(seed)
    now = now or utcnow()
    texts = load_demo_texts()
    by_lang: dict[Language, list[DemoText]] = {}
    for item in texts:
        by_lang.setdefault(item.language, []).append(item)
    async with UnitOfWork(database.sessions) as uow:
        offices = list(await uow.reference.offices())
        services = list(await uow.reference.services())
    quality = {office.id: rng.uniform(-0.8, 0.8) for office in offices}
    total = 0
    for back in range(months - 1, -1, -1):
        month_start = _month_start(now, back, timezone)
        month_end = min(_month_start(now, back - 1, timezone), now)
        drafts: list[tuple[FeedbackDraft, str | None]] = []
        for _ in range(per_month):
            office = rng.choice(offices)
            drafts.append(
                _draft(rng, office, services, quality[office.id], by_lang, month_start, month_end)
            )
        score_of = _tag(tagger, [text for _, text in drafts if text])
        async with UnitOfWork(database.sessions) as uow:
            for draft, text in drafts:
                feedback = build_feedback(
                    draft,
                    score_of.get(text) if text else None,
                    timezone=timezone,
                    **({"sla_hours": sla_hours} if sla_hours else {}),
                )
                if feedback.case is not None:
                    _age_case(rng, feedback.case, now)
                uow.feedback.add(feedback)
            await uow.commit()
        total += len(drafts)
    return total


def _tag(tagger: ClassifierTagger | None, texts: Sequence[str]) -> dict[str, TagScores]:
    if tagger is None or not texts:
        return {}
    return {
        text: as_tag_scores(result)
        for text, result in zip(texts, tagger.tag_many(texts), strict=True)
    }


def _month_start(now: datetime, back: int, timezone: str) -> datetime:
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    year, month = local.year, local.month - back
    while month <= 0:
        month += 12
        year -= 1
    while month > 12:
        month -= 12
        year += 1
    return datetime(year, month, 1, tzinfo=zone)


def _draft(
    rng: random.Random,
    office: Office,
    services: Sequence[Service],
    quality: float,
    by_lang: Mapping[Language, Sequence[DemoText]],
    start: datetime,
    end: datetime,
) -> tuple[FeedbackDraft, str | None]:
    # Centres are open 9:00-19:00: a visit lands on a random day at a working hour.
    days = max((end - start).days, 1)
    moment = start + timedelta(days=rng.randrange(days), hours=rng.uniform(9, 19))
    moment = min(moment, end - timedelta(seconds=1))
    language = rng.choices([Language.KK, Language.RU, Language.EN], weights=[45, 48, 7])[0]
    rating = max(1, min(5, round(rng.gauss(4.0 + quality, 1.1))))
    criteria: dict[str, bool | None] = {}
    for name in CRITERIA:
        if rng.random() < 0.15:
            criteria[name] = None  # skipped
        else:
            criteria[name] = rng.random() < (0.25 + 0.17 * rating)
    text = None
    if rng.random() < (0.7 if rating <= 2 else 0.35 if rating == 3 else 0.15):
        pool = [t for t in by_lang.get(language, []) if bool(t.labels) == (rating <= 3)] or list(
            by_lang.get(language, [])
        )
        if pool:
            text = rng.choice(pool).text
    direct = rng.random() < 0.004
    draft = FeedbackDraft(
        channel=rng.choices([Channel.TELEGRAM, Channel.WEB], weights=[70, 30])[0],
        language=language,
        office_id=office.id,
        region_code=office.region_code,
        service_id=rng.choice(services).id if rng.random() < 0.93 else None,
        rating=None if direct else rating,
        criteria={} if direct else criteria,
        text=text,
        is_direct_report=direct,
        consent_contact=rng.random() < 0.3,
        created_at=moment,
    )
    return draft, text


def _age_case(rng: random.Random, case: Case, now: datetime) -> None:
    opened = case.opened_at
    age = now - opened
    if age < timedelta(hours=6):
        return
    first = opened + timedelta(hours=rng.uniform(0.5, 60))
    if first > now:
        return
    case.first_action_at = first
    roll = rng.random()
    if age > timedelta(days=10) and roll < 0.85:
        case.status = rng.choice([CaseStatus.RESOLVED, CaseStatus.ANSWERED, CaseStatus.REJECTED])
        case.answered_at = first + timedelta(hours=rng.uniform(1, 48))
        if case.status != CaseStatus.ANSWERED:
            case.closed_at = case.answered_at
        if case.status == CaseStatus.REJECTED:
            case.resolution = "Not confirmed after checking the office's records."
    else:
        case.status = CaseStatus.IN_REVIEW
