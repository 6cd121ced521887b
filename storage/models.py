"""SQLAlchemy 2 declarative models: the whole schema of Pikir.

The same models serve SQLite and PostgreSQL. Timestamps are ``UTCDateTime`` (aware UTC on both),
JSON columns use the generic ``JSON`` type, and every enumeration is stored as a short string with
a CHECK constraint so that both dialects reject unknown values.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UTCDateTime, utcnow
from vocabulary import CRITERIA as CRITERIA  # re-exported: read beside the crit_ columns
from vocabulary import TAGS

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT autoincrement on PostgreSQL, INTEGER PRIMARY KEY (rowid) on SQLite.
BigID = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations get stable constraint names."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Channel(enum.StrEnum):
    """Where a feedback came from."""

    TELEGRAM = "telegram"
    WEB = "web"
    IMPORT = "import"


class Language(enum.StrEnum):
    """The three languages of the citizen-facing texts."""

    KK = "kk"
    RU = "ru"
    EN = "en"


class TagSource(enum.StrEnum):
    """Who set a tag: the classifier or a staff member."""

    MODEL = "model"
    STAFF = "staff"


class CaseStatus(enum.StrEnum):
    """Life cycle of a flagged feedback."""

    NEW = "new"
    IN_REVIEW = "in_review"
    ANSWERED = "answered"
    RESOLVED = "resolved"
    REJECTED = "rejected"


class OutboxStatus(enum.StrEnum):
    """Delivery state of an outgoing message."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class WebAuthor(enum.StrEnum):
    """Who wrote a message of a web chat's history."""

    CITIZEN = "citizen"
    BOT = "bot"
    STAFF = "staff"


class StaffRole(enum.StrEnum):
    """Staff roles; see DESIGN.md, "Staff side"."""

    REVIEWER = "reviewer"
    ANTICORRUPTION = "anticorruption"
    ANALYST = "analyst"
    ADMIN = "admin"


class TimestampMixin:
    """Creation and last-change times."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Region(Base):
    """One of the 20 regions: 17 oblasts and the 3 cities of national significance."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_kk: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))

    offices: Mapped[list[Office]] = relationship(back_populates="region")


class Office(TimestampMixin, Base):
    """A public service centre (ЦОН / ХҚКО); its code is the payload of its QR deep link."""

    __tablename__ = "offices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    name_kk: Mapped[str] = mapped_column(String(300))
    name_ru: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    address: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    region: Mapped[Region] = relationship(back_populates="offices")


class ServiceCategory(Base):
    """A group of services in the register (identity documents, vehicles, …)."""

    __tablename__ = "service_categories"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_kk: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))


class Service(TimestampMixin, Base):
    """A public service from the register; ``has_standard`` is False for "hidden" services."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("service_categories.code"), index=True)
    name_kk: Mapped[str] = mapped_column(String(500))
    name_ru: Mapped[str] = mapped_column(String(500))
    name_en: Mapped[str] = mapped_column(String(500))
    has_standard: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Respondent(TimestampMixin, Base):
    """A citizen, pseudonymous: only a keyed hash of the channel's user id is stored.

    ``reply_address`` (the chat to answer in) is kept only while the citizen has a conversation
    that may receive an answer; erasing one's data clears it.
    """

    __tablename__ = "respondents"
    __table_args__ = (UniqueConstraint("channel", "subject_hash"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"))
    subject_hash: Mapped[str] = mapped_column(String(64))
    language: Mapped[Language | None] = mapped_column(_enum(Language, "language"), nullable=True)
    reply_address: Mapped[str | None] = mapped_column(String(128), nullable=True)


class Conversation(TimestampMixin, Base):
    """The state of one citizen's conversation on one channel and chat.

    ``version`` increases on every save so that two processes handling the same chat cannot
    overwrite each other silently.
    """

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "chat_key"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"))
    chat_key: Mapped[str] = mapped_column(String(64))
    respondent_id: Mapped[int | None] = mapped_column(
        ForeignKey("respondents.id", ondelete="SET NULL"), nullable=True, index=True
    )
    step: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=0)


class ProcessedUpdate(Base):
    """An incoming channel update already handled, so a redelivery has no second effect."""

    __tablename__ = "processed_updates"

    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"), primary_key=True)
    update_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Feedback(TimestampMixin, Base):
    """One citizen's answer: rating, criteria, free text; the unit every figure counts.

    ``month`` (``YYYY-MM`` of ``created_at`` in the agency's time zone) is stored so that both
    dialects group by the same key without date functions.
    """

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("rating IS NULL OR (rating BETWEEN 1 AND 5)", name="rating_range"),
        Index("ix_feedback_month_office", "month", "office_id"),
        # A month's lowest and highest id, so the aggregate refresh reads tags by id range.
        Index("ix_feedback_month_id", "month", "id"),
        Index("ix_feedback_updated_at", "updated_at"),
        Index("ix_feedback_created_at", "created_at"),
        # Staff search the text of queued feedback by substring; on PostgreSQL a trigram index
        # over those rows only answers that. SQLite installations are small enough to scan, so
        # there the index is declared empty (WHERE 0): the same schema on both dialects, and no
        # cost on SQLite.
        Index(
            "ix_feedback_case_text_trgm",
            "text",
            postgresql_using="gin",
            postgresql_ops={"text": "gin_trgm_ops"},
            postgresql_where=sql_text("has_case"),
            sqlite_where=sql_text("0"),
        ),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"))
    language: Mapped[Language] = mapped_column(_enum(Language, "language"))
    month: Mapped[str] = mapped_column(String(7))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"), nullable=True)
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("services.id"), nullable=True, index=True
    )
    rating: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    crit_politeness: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    crit_waiting: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    crit_information: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    crit_result: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    crit_no_extra_payment: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    has_text: Mapped[bool] = mapped_column(Boolean, default=False)
    text_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    is_direct_report: Mapped[bool] = mapped_column(Boolean, default=False)
    # True when a case was opened for this feedback (it is in the review queue).
    has_case: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    respondent_id: Mapped[int | None] = mapped_column(
        ForeignKey("respondents.id", ondelete="SET NULL"), nullable=True, index=True
    )
    source_id: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)

    office: Mapped[Office | None] = relationship()
    service: Mapped[Service | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(back_populates="feedback", cascade="all, delete-orphan")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="feedback", cascade="all, delete-orphan"
    )
    case: Mapped[Case | None] = relationship(back_populates="feedback", uselist=False)


class Attachment(Base):
    """A photo attached to a feedback: a Telegram file id or a stored upload."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    feedback_id: Mapped[int] = mapped_column(
        ForeignKey("feedback.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16), default="photo")
    location: Mapped[str | None] = mapped_column(String(500), nullable=True)
    content_type: Mapped[str] = mapped_column(String(64), default="image/jpeg")
    size: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    feedback: Mapped[Feedback] = relationship(back_populates="attachments")


class Tag(Base):
    """A complaint tag on a feedback.

    Model rows carry the probability for every tag (``present`` says whether it passed the
    threshold). Staff rows are corrections: the newest staff row for a tag overrides the model,
    and all staff rows are kept with their author as training data.
    """

    __tablename__ = "tags"
    __table_args__ = (
        Index("ix_tags_feedback_tag", "feedback_id", "tag"),
        # Incremental aggregate refresh finds staff corrections made since its last run.
        Index("ix_tags_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(32))
    source: Mapped[TagSource] = mapped_column(_enum(TagSource, "tag_source"))
    present: Mapped[bool] = mapped_column(Boolean, default=True)
    probability: Mapped[float | None] = mapped_column(Float, nullable=True)
    model_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    feedback: Mapped[Feedback] = relationship(back_populates="tags")


class Case(TimestampMixin, Base):
    """A flagged feedback in the review queue.

    ``priority`` is the severity rank (0 = corruption, 1 = hidden service, …) so that the queue
    orders by (priority, opened_at) on an index. ``region_code``, ``office_id``, ``service_id``,
    ``channel`` and ``language`` are copied from the feedback, and ``labels`` holds its effective
    tags as ``",corruption,delay,"``, so every queue filter reads this table alone: with a
    million feedback rows a join per filtered page would be too slow.
    """

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_queue", "status", "priority", "opened_at", "id"),
        Index("ix_cases_region_queue", "region_code", "status", "priority", "opened_at", "id"),
        Index("ix_cases_due", "status", "due_at"),
        # Incremental aggregate refresh finds cases that moved since its last run.
        Index("ix_cases_updated_at", "updated_at"),
        Index("ix_cases_order", "priority", "opened_at", "id"),
        # The default view ("open": new and in review) in queue order, without a sort.
        Index(
            "ix_cases_open_queue",
            "priority",
            "opened_at",
            "id",
            sqlite_where=sql_text("status IN ('new', 'in_review')"),
            postgresql_where=sql_text("status IN ('new', 'in_review')"),
        ),
        Index("ix_cases_office", "office_id", "priority", "opened_at"),
        Index("ix_cases_service", "service_id", "priority", "opened_at"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    feedback_id: Mapped[int] = mapped_column(
        ForeignKey("feedback.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus, "case_status"))
    priority: Mapped[int] = mapped_column(SmallInteger)
    region_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"), nullable=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"), nullable=True)
    channel: Mapped[Channel | None] = mapped_column(_enum(Channel, "channel"), nullable=True)
    language: Mapped[Language | None] = mapped_column(_enum(Language, "language"), nullable=True)
    labels: Mapped[str] = mapped_column(String(200), default="")
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id"), nullable=True, index=True
    )
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    first_action_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    feedback: Mapped[Feedback] = relationship(back_populates="case")
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class CaseEvent(Base):
    """The history of a case: notes, assignment, status changes, replies, tag corrections."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(24))
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="events")


class OutboxMessage(TimestampMixin, Base):
    """A message to send: staff replies, staff-chat alerts, notices; sent by the outbox worker."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"))
    address: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), nullable=True, index=True
    )
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus, "outbox_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebMessage(Base):
    """One message of a web chat's history, so that a reloaded page shows the conversation.

    ``chat_key`` is the web conversation's key (a keyed hash of the browser's cookie, never the
    cookie itself). Bot messages keep their buttons so the latest question can be shown again;
    a staff reply keeps the id of the outbox row it delivered, so a redelivery adds nothing.
    """

    __tablename__ = "web_messages"
    __table_args__ = (
        Index("ix_web_messages_chat", "chat_key", "id"),
        Index("ix_web_messages_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    chat_key: Mapped[str] = mapped_column(String(64))
    author: Mapped[WebAuthor] = mapped_column(_enum(WebAuthor, "web_author"))
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    expects_text: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[Language | None] = mapped_column(_enum(Language, "language"), nullable=True)
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox.id", ondelete="SET NULL"), unique=True, nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffUser(TimestampMixin, Base):
    """An agency staff member who logs into the panel."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[StaffRole] = mapped_column(_enum(StaffRole, "staff_role"))
    language: Mapped[Language] = mapped_column(_enum(Language, "language"), default=Language.RU)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Raised when the password, role or access changes, or at logout: sessions issued under
    # an older epoch are no longer accepted.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    telegram_chat_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    subscribed_reports: Mapped[bool] = mapped_column(Boolean, default=False)

    regions: Mapped[list[StaffRegion]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def region_codes(self) -> list[str]:
        """The codes of the regions this staff member may see."""
        return sorted(r.region_code for r in self.regions)


class StaffRegion(Base):
    """A region a reviewer is responsible for."""

    __tablename__ = "staff_regions"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True
    )
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), primary_key=True)


class LoginThrottle(Base):
    """Failed logins counted for the lockout (:mod:`admin.lockout`).

    ``key`` is ``pair:<sha256 of the login and the address or device>`` or ``login:<sha256 of
    the login>``: what people type into the login field is never stored in clear. A known
    account's own lock is :attr:`StaffUser.locked_until`, which the users page shows and lifts.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuditEntry(Base):
    """One staff action. The application only ever inserts into this table."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_at", "at"), Index("ix_audit_actor", "actor_id", "at"))

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    actor_login: Mapped[str | None] = mapped_column(String(64), nullable=True)
    action: Mapped[str] = mapped_column(String(48))
    target_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    target_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)


class CellCounts:
    """The summable counts of the figures, shared by the cells and their monthly roll-ups.

    Sums and counts only (never shares): shares and their intervals are derived when reading,
    so counts roll up to region and country exactly.
    """

    responses: Mapped[int] = mapped_column(Integer, default=0)
    rated: Mapped[int] = mapped_column(Integer, default=0)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    rating_1: Mapped[int] = mapped_column(Integer, default=0)
    rating_2: Mapped[int] = mapped_column(Integer, default=0)
    rating_3: Mapped[int] = mapped_column(Integer, default=0)
    rating_4: Mapped[int] = mapped_column(Integer, default=0)
    rating_5: Mapped[int] = mapped_column(Integer, default=0)
    politeness_answered: Mapped[int] = mapped_column(Integer, default=0)
    politeness_positive: Mapped[int] = mapped_column(Integer, default=0)
    waiting_answered: Mapped[int] = mapped_column(Integer, default=0)
    waiting_positive: Mapped[int] = mapped_column(Integer, default=0)
    information_answered: Mapped[int] = mapped_column(Integer, default=0)
    information_positive: Mapped[int] = mapped_column(Integer, default=0)
    result_answered: Mapped[int] = mapped_column(Integer, default=0)
    result_positive: Mapped[int] = mapped_column(Integer, default=0)
    no_extra_payment_answered: Mapped[int] = mapped_column(Integer, default=0)
    no_extra_payment_positive: Mapped[int] = mapped_column(Integer, default=0)
    with_text: Mapped[int] = mapped_column(Integer, default=0)
    complaints: Mapped[int] = mapped_column(Integer, default=0)
    # One ``tag_<name>`` count per vocabulary tag, added below the class.
    cases_opened: Mapped[int] = mapped_column(Integer, default=0)
    cases_answered: Mapped[int] = mapped_column(Integer, default=0)
    cases_resolved: Mapped[int] = mapped_column(Integer, default=0)
    # Count and sum so that the mean time to first action rolls up exactly (a median does not).
    first_action_count: Mapped[int] = mapped_column(Integer, default=0)
    first_action_seconds_sum: Mapped[float] = mapped_column(Float, default=0.0)


# The tag counts follow the vocabulary, so a new tag needs only its migration here.
for _tag in TAGS:
    setattr(CellCounts, f"tag_{_tag}", mapped_column(Integer, nullable=False, default=0))


class MonthlyAggregate(CellCounts, Base):
    """Counts for one cell: month × office × service × channel × language.

    Empty strings stand for "no office" / "no service" so that the natural key can be a plain
    unique constraint.
    """

    __tablename__ = "monthly_aggregates"
    __table_args__ = (
        UniqueConstraint("month", "office_code", "service_code", "channel", "language"),
        Index("ix_aggregates_month_region", "month", "region_code"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    region_code: Mapped[str] = mapped_column(String(32), default="")
    office_code: Mapped[str] = mapped_column(String(32), default="")
    service_code: Mapped[str] = mapped_column(String(64), default="")
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    first_action_seconds_median: Mapped[float | None] = mapped_column(Float, nullable=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MonthlyRollup(CellCounts, Base):
    """A month's cells summed by office (with its region) or by service, for the report pages.

    Rewritten with the cells of its month, so a page reads a few hundred rows instead of
    summing tens of thousands of cells. ``level`` is ``office`` (``service_code`` empty) or
    ``service`` (``region_code`` and ``office_code`` empty).
    """

    __tablename__ = "monthly_rollups"
    __table_args__ = (
        UniqueConstraint("month", "level", "region_code", "office_code", "service_code"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    level: Mapped[str] = mapped_column(String(16))
    region_code: Mapped[str] = mapped_column(String(32), default="")
    office_code: Mapped[str] = mapped_column(String(32), default="")
    service_code: Mapped[str] = mapped_column(String(64), default="")


ROLLUP_KEYS = ("month", "level", "region_code", "office_code", "service_code")
# The names of the summable columns, in table order.
CELL_COUNTS: tuple[str, ...] = tuple(
    column.name
    for column in MonthlyRollup.__table__.columns
    if column.name not in {"id", *ROLLUP_KEYS}
)


class JobRun(Base):
    """One run of a scheduled job; ``run_key`` makes a run claimable by exactly one process."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_started_at", "started_at"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    job: Mapped[str] = mapped_column(String(48), index=True)
    run_key: Mapped[str] = mapped_column(String(128), unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    rows: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


class AggregateWatermark(Base):
    """How far the incremental aggregate refresh has looked for changed feedback, tags, cases."""

    __tablename__ = "aggregate_watermarks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    seen_until: Mapped[datetime] = mapped_column(UTCDateTime)


class WorkerHeartbeat(Base):
    """A running ``pikir serve`` worker, refreshed every few seconds and removed on clean exit.

    Workers read each other's rows to know they are several (and whether they share Redis).
    """

    __tablename__ = "worker_heartbeats"

    worker: Mapped[str] = mapped_column(String(96), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    shares_redis: Mapped[bool] = mapped_column(Boolean, default=False)
