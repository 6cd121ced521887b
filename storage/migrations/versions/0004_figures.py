"""figures: aggregate watermark, roll-up columns for response time, refresh indexes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 03:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types


revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "aggregate_watermarks",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("seen_until", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_aggregate_watermarks")),
    )
    with op.batch_alter_table("monthly_aggregates", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("first_action_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("first_action_seconds_sum", sa.Float(), nullable=False, server_default="0")
        )
    # The server defaults only fill existing rows; the models give the values from then on.
    with op.batch_alter_table("monthly_aggregates", schema=None) as batch_op:
        batch_op.alter_column("first_action_count", server_default=None)
        batch_op.alter_column("first_action_seconds_sum", server_default=None)
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.create_index("ix_tags_created_at", ["created_at"], unique=False)
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_month_id", ["month", "id"], unique=False)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_updated_at", ["updated_at"], unique=False)
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.create_index("ix_job_runs_started_at", ["started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_job_runs_started_at")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_updated_at")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_month_id")
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.drop_index("ix_tags_created_at")
    with op.batch_alter_table("monthly_aggregates", schema=None) as batch_op:
        batch_op.drop_column("first_action_seconds_sum")
        batch_op.drop_column("first_action_count")
    op.drop_table("aggregate_watermarks")
