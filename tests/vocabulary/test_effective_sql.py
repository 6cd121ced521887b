"""The effective-tag rule's SQL form (the figures) and its Python form (the panel, exports,
retraining) agree on the same rows, on SQLite and PostgreSQL, ties in time included."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from admin.figures import sql
from storage.database import Database
from storage.models import Feedback, Tag, TagSource
from storage.uow import UnitOfWork
from tests.figures.factory import MONTH_STARTS, insert_specs, random_spec
from vocabulary import TAGS, effective_tags


async def test_sql_and_python_forms_agree(database: Database) -> None:
    rng = random.Random(17)
    ids = await insert_specs(database, [random_spec(rng) for _ in range(120)])
    # Extra rows that only the tie-breaks decide: same tag, source and time, opposite answers.
    async with UnitOfWork(database.sessions) as uow:
        moment = MONTH_STARTS["2026-09"] + timedelta(days=3)
        for feedback_id in rng.sample(ids, 40):
            tag = rng.choice(TAGS)
            source = rng.choice([TagSource.MODEL, TagSource.STAFF])
            for present in (rng.random() < 0.5, rng.random() < 0.5):
                uow.session.add(
                    Tag(
                        feedback_id=feedback_id,
                        tag=tag,
                        source=source,
                        present=present,
                        probability=0.5 if source == TagSource.MODEL else None,
                        created_at=moment,
                    )
                )
        await uow.commit()

    async with UnitOfWork(database.sessions) as uow:
        subquery = sql.effective_tags(None)
        by_sql: dict[int, set[str]] = defaultdict(set)
        for row in (await uow.session.execute(select(subquery))).mappings():
            by_sql[row["feedback_id"]] |= {tag for tag in TAGS if row[tag]}
        feedbacks = (
            await uow.session.scalars(select(Feedback).options(selectinload(Feedback.tags)))
        ).all()
    by_python = {
        f.id: {tag for tag, e in effective_tags(f.tags).items() if e.present and tag in TAGS}
        for f in feedbacks
    }
    compared = {fid: by_python[fid] for fid in by_python if by_python[fid] or fid in by_sql}
    assert {fid: tags for fid, tags in by_sql.items() if tags} == {
        fid: tags for fid, tags in compared.items() if tags
    }
    assert sum(1 for tags in by_python.values() if tags) > 50  # the comparison has substance
