"""admin panel: queue filter columns on cases, login throttle, session epoch, text search

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23 03:05:31

Cases get copies of the feedback's office, service, channel, language and effective tags so
every queue filter reads the cases table alone; existing cases are filled in from their
feedback. Feedback gets ``has_case``; PostgreSQL gets the pg_trgm extension and a trigram
index over the text of feedback with a case, for searching the queue (the extension is left
installed on downgrade: other objects may use it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_STATUSES = sa.text("status IN ('new', 'in_review')")


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=96), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("locked_until", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("office_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("service_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "channel",
                sa.Enum(
                    "telegram",
                    "web",
                    "import",
                    name="channel",
                    native_enum=False,
                    create_constraint=True,
                    length=24,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "language",
                sa.Enum(
                    "kk",
                    "ru",
                    "en",
                    name="language",
                    native_enum=False,
                    create_constraint=True,
                    length=24,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("labels", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.create_index("ix_cases_office", ["office_id", "priority", "opened_at"])
        batch_op.create_index(
            "ix_cases_open_queue",
            ["priority", "opened_at", "id"],
            sqlite_where=OPEN_STATUSES,
            postgresql_where=OPEN_STATUSES,
        )
        batch_op.create_index("ix_cases_order", ["priority", "opened_at", "id"])
        batch_op.create_index("ix_cases_service", ["service_id", "priority", "opened_at"])
        batch_op.create_foreign_key(
            batch_op.f("fk_cases_office_id_offices"), "offices", ["office_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_cases_service_id_services"), "services", ["service_id"], ["id"]
        )

    _backfill_cases()

    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("has_case", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute("UPDATE feedback SET has_case = true WHERE id IN (SELECT feedback_id FROM cases)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(
            "ix_feedback_case_text_trgm",
            ["text"],
            postgresql_using="gin",
            postgresql_ops={"text": "gin_trgm_ops"},
            postgresql_where=sa.text("has_case"),
            sqlite_where=sa.text("0"),
        )

    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
        )


def _backfill_cases() -> None:
    """Copy the filter columns and the effective tags of existing cases from their feedback."""
    for column in ("office_id", "service_id", "channel", "language"):
        op.execute(
            f"UPDATE cases SET {column} = "  # noqa: S608 - fixed column names
            f"(SELECT feedback.{column} FROM feedback WHERE feedback.id = cases.feedback_id)"
        )
    bind = op.get_bind()
    # The newest staff row of a tag wins over the model's row (effective_tags in storage).
    rows = bind.execute(
        sa.text(
            "SELECT c.id, t.tag, t.present FROM cases c JOIN tags t ON t.feedback_id = c.feedback_id "
            "ORDER BY c.id, t.tag, CASE WHEN t.source = 'staff' THEN 1 ELSE 0 END, "
            "t.created_at, t.id"
        )
    ).all()
    present: dict[int, dict[str, bool]] = {}
    for case_id, tag, is_present in rows:
        present.setdefault(case_id, {})[tag] = bool(is_present)
    update = sa.text("UPDATE cases SET labels = :labels WHERE id = :id")
    for case_id, tags in present.items():
        names = sorted(tag for tag, on in tags.items() if on)
        if names:
            bind.execute(update, {"id": case_id, "labels": "," + ",".join(names) + ","})


def downgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("session_epoch")

    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_case_text_trgm")
        batch_op.drop_column("has_case")

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_cases_service_id_services"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_cases_office_id_offices"), type_="foreignkey")
        batch_op.drop_index("ix_cases_service")
        batch_op.drop_index("ix_cases_order")
        batch_op.drop_index("ix_cases_open_queue")
        batch_op.drop_index("ix_cases_office")
        # SQLite's batch copy would keep these CHECKs and fail on the dropped columns.
        batch_op.drop_constraint(batch_op.f("ck_cases_language"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_cases_channel"), type_="check")
        batch_op.drop_column("labels")
        batch_op.drop_column("language")
        batch_op.drop_column("channel")
        batch_op.drop_column("service_id")
        batch_op.drop_column("office_id")

    op.drop_table("login_throttle")
