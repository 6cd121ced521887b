"""figures: monthly roll-ups by office and by service (monthly_rollups)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 09:31:44.289437
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The summable columns as they stand in this revision (never imported from the models).
COUNTS = (
    "responses", "rated", "rating_sum", "rating_1", "rating_2", "rating_3", "rating_4",
    "rating_5", "politeness_answered", "politeness_positive", "waiting_answered",
    "waiting_positive", "information_answered", "information_positive", "result_answered",
    "result_positive", "no_extra_payment_answered", "no_extra_payment_positive", "with_text",
    "complaints", "tag_rudeness", "tag_paperwork_error", "tag_hidden_service", "tag_corruption",
    "tag_delay", "tag_misinformation", "cases_opened", "cases_answered", "cases_resolved",
    "first_action_count", "first_action_seconds_sum",
)


def upgrade() -> None:
    op.create_table('monthly_rollups',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('region_code', sa.String(length=32), nullable=False),
    sa.Column('office_code', sa.String(length=32), nullable=False),
    sa.Column('service_code', sa.String(length=64), nullable=False),
    sa.Column('responses', sa.Integer(), nullable=False),
    sa.Column('rated', sa.Integer(), nullable=False),
    sa.Column('rating_sum', sa.Integer(), nullable=False),
    sa.Column('rating_1', sa.Integer(), nullable=False),
    sa.Column('rating_2', sa.Integer(), nullable=False),
    sa.Column('rating_3', sa.Integer(), nullable=False),
    sa.Column('rating_4', sa.Integer(), nullable=False),
    sa.Column('rating_5', sa.Integer(), nullable=False),
    sa.Column('politeness_answered', sa.Integer(), nullable=False),
    sa.Column('politeness_positive', sa.Integer(), nullable=False),
    sa.Column('waiting_answered', sa.Integer(), nullable=False),
    sa.Column('waiting_positive', sa.Integer(), nullable=False),
    sa.Column('information_answered', sa.Integer(), nullable=False),
    sa.Column('information_positive', sa.Integer(), nullable=False),
    sa.Column('result_answered', sa.Integer(), nullable=False),
    sa.Column('result_positive', sa.Integer(), nullable=False),
    sa.Column('no_extra_payment_answered', sa.Integer(), nullable=False),
    sa.Column('no_extra_payment_positive', sa.Integer(), nullable=False),
    sa.Column('with_text', sa.Integer(), nullable=False),
    sa.Column('complaints', sa.Integer(), nullable=False),
    sa.Column('tag_rudeness', sa.Integer(), nullable=False),
    sa.Column('tag_paperwork_error', sa.Integer(), nullable=False),
    sa.Column('tag_hidden_service', sa.Integer(), nullable=False),
    sa.Column('tag_corruption', sa.Integer(), nullable=False),
    sa.Column('tag_delay', sa.Integer(), nullable=False),
    sa.Column('tag_misinformation', sa.Integer(), nullable=False),
    sa.Column('cases_opened', sa.Integer(), nullable=False),
    sa.Column('cases_answered', sa.Integer(), nullable=False),
    sa.Column('cases_resolved', sa.Integer(), nullable=False),
    sa.Column('first_action_count', sa.Integer(), nullable=False),
    sa.Column('first_action_seconds_sum', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monthly_rollups')),
    sa.UniqueConstraint('month', 'level', 'region_code', 'office_code', 'service_code', name=op.f('uq_monthly_rollups_month'))
    )
    # Roll up the cells already stored, so the report pages show them before the next refresh.
    sums = ", ".join(f"sum({name})" for name in COUNTS)
    names = ", ".join(COUNTS)
    op.execute(
        f"INSERT INTO monthly_rollups (month, level, region_code, office_code, service_code, "
        f"{names}) SELECT month, 'office', region_code, office_code, '', {sums} "
        f"FROM monthly_aggregates GROUP BY month, region_code, office_code"
    )
    op.execute(
        f"INSERT INTO monthly_rollups (month, level, region_code, office_code, service_code, "
        f"{names}) SELECT month, 'service', '', '', service_code, {sums} "
        f"FROM monthly_aggregates GROUP BY month, service_code"
    )


def downgrade() -> None:
    op.drop_table('monthly_rollups')
