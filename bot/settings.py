"""Settings from the environment: prefix ``PIKIR_``, nested with ``__``.

Only the composition root (``bot.main``) builds :class:`Settings`; everything else receives the
part it needs. Secrets are ``SecretStr`` so they never appear in logs or reprs.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    Field,
    IPvAnyNetwork,
    SecretStr,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from vocabulary import DEFAULT_SLA_HOURS, DEFAULT_TIMEZONE


class DatabaseSettings(BaseModel):
    """Where the data lives."""

    url: str = "sqlite+aiosqlite:///pikir.db"
    echo: bool = False
    pool_size: int = Field(default=10, ge=1, le=200)
    # A pooled connection idle this long is checked before use (see storage.database).
    ping_after_idle_seconds: float = Field(default=10.0, ge=0, le=3600)

    @field_validator("url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// "
                "(the async drivers Pikir ships with)"
            )
        return value


class HttpSettings(BaseModel):
    """The HTTP server of the web chat, the admin panel and the webhook."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str = "http://127.0.0.1:8080"
    # Reverse proxies whose X-Forwarded-For is believed (addresses or networks, as JSON:
    # '["127.0.0.1", "10.0.0.0/8"]'). Empty: the connection's address is the client's.
    trusted_proxies: list[IPvAnyNetwork] = Field(default_factory=list, max_length=64)


class TelegramSettings(BaseModel):
    """The citizens' bot. Without a token the bot is off."""

    token: SecretStr | None = None
    api_url: str = "https://api.telegram.org"
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    # Polling removes a webhook only when told to: a configured webhook is refused otherwise.
    delete_webhook: bool = False
    staff_chat_id: str | None = None
    # The language of the staff chat's alerts, reminders and digest.
    staff_language: Literal["kk", "ru", "en"] = "ru"
    bot_username: str | None = None
    rate_per_second: float = Field(default=30.0, gt=0, le=1000)
    per_chat_interval: float = Field(default=1.0, ge=0, le=60)
    # Per-chat flood control of incoming updates: a whole feedback fits in one burst.
    flood_per_second: float = Field(default=2.0, gt=0, le=100)
    flood_burst: int = Field(default=20, ge=1, le=1000)
    # A message claimed for sending longer than this is taken as its worker's death (killed
    # outright) and sent again by another: long enough that a live worker has finished it.
    outbox_stuck_seconds: int = Field(default=900, ge=5, le=24 * 3600)

    @model_validator(mode="after")
    def _webhook_complete(self) -> TelegramSettings:
        if self.token is not None and self.mode == "webhook":
            if not self.webhook_url:
                raise ValueError("webhook mode needs PIKIR_TELEGRAM__WEBHOOK_URL")
            if self.webhook_secret is None or len(self.webhook_secret.get_secret_value()) < 16:
                raise ValueError(
                    "webhook mode needs PIKIR_TELEGRAM__WEBHOOK_SECRET of at least 16 characters"
                )
        return self


class WebChatSettings(BaseModel):
    """The citizens' web chat at ``/chat``: limits, cookie and who may embed it."""

    # Per conversation: a whole feedback fits in one burst, a script does not.
    flood_per_second: float = Field(default=2.0, gt=0, le=1000)
    flood_burst: int = Field(default=20, ge=1, le=100_000)
    # Per client address: generous, since many phones share one carrier address (CGNAT).
    ip_per_second: float = Field(default=20.0, gt=0, le=100_000)
    ip_burst: int = Field(default=200, ge=1, le=1_000_000)
    new_chats_per_minute: float = Field(default=30.0, gt=0, le=1_000_000)
    new_chats_burst: int = Field(default=60, ge=1, le=1_000_000)
    max_sockets_per_ip: int = Field(default=200, ge=1, le=1_000_000)
    max_frame_bytes: int = Field(default=32 * 1024, ge=1024, le=1024 * 1024)
    cookie_days: int = Field(default=180, ge=1, le=3650)
    # Origins (scheme://host[:port]) besides the public URL's whose pages may open the socket.
    allowed_origins: list[str] = Field(default_factory=list)
    # Sites that may show the chat in the embeddable widget (CSP frame-ancestors).
    embed_origins: list[str] = Field(default_factory=list)

    @field_validator("allowed_origins", "embed_origins")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        for value in values:
            if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?", value):
                raise ValueError(f"{value!r} is not an origin like https://example.kz")
        return values


class RedisSettings(BaseModel):
    """Redis shared by several workers: per-chat locks and every rate limit. Optional."""

    url: SecretStr | None = None  # redis://[:password@]host:6379/0; may carry a password
    prefix: str = Field(default="pikir:", min_length=1, max_length=64)
    # How long an update waits for a lower update id of its chat that reached another worker
    # at the same moment (BENCHMARKS.md, "Chat lock"): every Telegram update pays it once.
    ordering_window_ms: int = Field(default=100, ge=0, le=2000)

    @field_validator("url")
    @classmethod
    def _redis_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value


class SecuritySettings(BaseModel):
    """Keys for pseudonyms, sessions and cookies."""

    secret_key: SecretStr | None = None
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_absolute_hours: int = Field(default=12, ge=1, le=72)
    # Lockout (README, "Security"): failures of one login from one address (or browser) that
    # cost nothing; then delays doubling from login_delay_seconds up to login_lockout_minutes.
    login_max_failures: int = Field(default=5, ge=1, le=100)
    login_delay_seconds: int = Field(default=30, ge=1, le=3600)
    login_lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # From all addresses together: far higher, as a whole office may share one address.
    login_max_failures_per_account: int = Field(default=50, ge=2, le=10_000)

    @property
    def session_idle(self) -> timedelta:
        """A staff session unused this long ends."""
        return timedelta(minutes=self.session_idle_minutes)

    @property
    def session_absolute(self) -> timedelta:
        """A staff session ends this long after its login, however busy."""
        return timedelta(hours=self.session_absolute_hours)

    @property
    def login_first_delay(self) -> timedelta:
        """The first delay once the free failures are spent (it doubles after each failure)."""
        return timedelta(seconds=self.login_delay_seconds)

    @property
    def login_lockout(self) -> timedelta:
        """The longest delay, and how long an account-wide lock lasts."""
        return timedelta(minutes=self.login_lockout_minutes)


class ClassifierSettings(BaseModel):
    """The complaint tagger."""

    artifacts_dir: Path | None = None
    enabled: bool = True
    # How often each worker looks for a model promoted by another (deploy/README.md).
    reload_check_seconds: float = Field(default=30, gt=0, le=60)


class ReportSettings(BaseModel):
    """Figures for the agency: suppression, time zone and the indicators' baselines and targets.

    Targets are configuration: ``PIKIR_REPORTS__ETHICS_TARGETS='{"2026": 0.78}'``.
    """

    min_cell: int = Field(default=10, ge=1, le=1000)
    timezone: str = DEFAULT_TIMEZONE
    ethics_baseline: float = Field(default=0.74, ge=0, le=1)
    ethics_targets: dict[int, float] = Field(
        default_factory=lambda: {2025: 0.76, 2026: 0.78, 2027: 0.80}
    )
    timeliness_baseline: float | None = Field(default=None, ge=0, le=1)
    timeliness_targets: dict[int, float] = Field(default_factory=dict)
    csat_baseline: float | None = Field(default=0.728, ge=0, le=1)
    csat_targets: dict[int, float] = Field(default_factory=dict)
    refresh_overlap_minutes: int = Field(default=10, ge=0, le=24 * 60)

    @property
    def refresh_overlap(self) -> timedelta:
        """How far back of its watermark the incremental aggregate refresh looks again."""
        return timedelta(minutes=self.refresh_overlap_minutes)

    @field_validator("ethics_targets", "timeliness_targets", "csat_targets")
    @classmethod
    def _shares(cls, value: dict[int, float]) -> dict[int, float]:
        for year, share in value.items():
            if not 0 <= share <= 1:
                raise ValueError(f"target for {year} must be a share between 0 and 1")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


_SLA_FIELDS: dict[str, Any] = {
    name: (int, Field(default=hours, ge=1)) for name, hours in DEFAULT_SLA_HOURS.items()
}
SlaSettings = create_model(
    "SlaSettings",
    __doc__="Hours until a case with this tag (or only a low rating) is overdue.",
    **_SLA_FIELDS,
)
"""One field per vocabulary tag and ``low_rating`` (``PIKIR_SLA__DELAY=48``)."""


def sla_hours(sla: BaseModel) -> dict[str, int]:
    """Hours until a case is overdue, by tag (and ``low_rating``), from the SLA settings."""
    return {name: int(hours) for name, hours in sla.model_dump().items()}


class RetentionSettings(BaseModel):
    """How long free text and attachments are kept."""

    days: int = Field(default=365, ge=1, le=3650)


def _check_crontab(value: str) -> str:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(value)
    except ValueError as exc:
        raise ValueError(f"not a crontab expression ({exc})") from None
    return value


class SchedulerSettings(BaseModel):
    """The scheduled jobs in the service process; schedules are crontab lines in the agency's
    time zone (``PIKIR_SCHEDULER__AGGREGATE="*/15 * * * *"``)."""

    enabled: bool = True
    aggregate: str = "*/15 * * * *"
    month_close: str = "30 0 1 * *"
    sla_reminders: str = "5 * * * *"
    weekly_digest: str = "0 9 * * mon"
    retrain: str = "0 3 * * sun"
    retention: str = "30 2 * * *"
    purge: str = "15 */6 * * *"
    misfire_grace_seconds: int = Field(default=3600, ge=1, le=7 * 24 * 3600)
    month_close_misfire_grace_seconds: int = Field(default=3 * 24 * 3600, ge=1, le=28 * 24 * 3600)
    coalesce: bool = True
    lease_minutes: int = Field(default=60, ge=1, le=24 * 60)
    # How often a worker without the scheduler tries to take it over: a worker killed outright
    # hands the scheduler on within about this long.
    takeover_seconds: float = Field(default=5.0, gt=0, le=300)

    @property
    def lease(self) -> timedelta:
        """How long a claimed run is another worker's before it may be claimed again."""
        return timedelta(minutes=self.lease_minutes)

    @field_validator(
        "aggregate",
        "month_close",
        "sla_reminders",
        "weekly_digest",
        "retrain",
        "retention",
        "purge",
    )
    @classmethod
    def _crontab(cls, value: str) -> str:
        return _check_crontab(value)


class Settings(BaseSettings):
    """All settings of one Pikir process."""

    model_config = SettingsConfigDict(
        env_prefix="PIKIR_", env_nested_delimiter="__", env_file=None, extra="ignore"
    )

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    webchat: WebChatSettings = Field(default_factory=WebChatSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    classifier: ClassifierSettings = Field(default_factory=ClassifierSettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    sla: SlaSettings = Field(default_factory=SlaSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    data_dir: Path = Path("var")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"


class SettingsError(Exception):
    """Settings could not be read; the message is one line naming the setting."""


def load_settings() -> Settings:
    """Read settings from the environment, turning validation errors into one clear line."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        location = "__".join(str(part) for part in first["loc"]).upper()
        name = f"PIKIR_{location}" if location else "PIKIR_*"
        raise SettingsError(f"bad setting {name}: {first['msg']}") from None
