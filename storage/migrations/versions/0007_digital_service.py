"""tags: a seventh tag, digital_service (counts in the figures; low-rating cases move one rank down)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 12:50:00.000000

The tag ranks last in severity, just before a case flagged only by its low rating, so those
cases move from priority 6 to 7. Figures already stored count none of the new tag (0) until the
next refresh recomputes them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As they stand in this revision (never imported from the vocabulary, which moves on).
TAG = "digital_service"
LOW_RATING_BEFORE = 6
TABLES = ("monthly_aggregates", "monthly_rollups")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(
                sa.Column(f"tag_{TAG}", sa.Integer(), nullable=False, server_default="0")
            )
    op.execute(
        f"UPDATE cases SET priority = priority + 1 WHERE priority >= {LOW_RATING_BEFORE}"
    )


def downgrade() -> None:
    # A case flagged by the new tag alone falls back to the lowest rank the old scheme had;
    # its tag rows stay (the old code counts only the tags it knows).
    op.execute(
        f"UPDATE cases SET priority = priority - 1 WHERE priority > {LOW_RATING_BEFORE}"
    )
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column(f"tag_{TAG}")
