"""Settings: environment names, nesting, secrets, one-line errors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.main import chat_options, job_deps, panel_config
from bot.settings import SettingsError, load_settings
from storage.database import Database


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(__import__("os").environ):
        if key.startswith("PIKIR_"):
            monkeypatch.delenv(key)
    settings = load_settings()
    assert settings.database.url.startswith("sqlite+aiosqlite://")
    assert (settings.http.host, settings.http.port) == ("127.0.0.1", 8080)
    assert settings.telegram.token is None
    assert settings.reports.min_cell == 10


def test_nested_values_and_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIKIR_DATABASE__URL", "postgresql+asyncpg://u:pw@db/pikir")
    monkeypatch.setenv("PIKIR_HTTP__PORT", "9090")
    monkeypatch.setenv("PIKIR_TELEGRAM__TOKEN", "123:very-secret-token")
    monkeypatch.setenv("PIKIR_TELEGRAM__API_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("PIKIR_TELEGRAM__STAFF_CHAT_ID", "-100500")
    settings = load_settings()
    assert settings.http.port == 9090
    assert settings.telegram.token is not None
    assert settings.telegram.token.get_secret_value() == "123:very-secret-token"
    assert "very-secret-token" not in repr(settings)
    assert "very-secret-token" not in str(settings.model_dump())


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("PIKIR_HTTP__PORT", "eighty", "PIKIR_HTTP__PORT"),
        ("PIKIR_HTTP__PORT", "70000", "PIKIR_HTTP__PORT"),
        ("PIKIR_DATABASE__URL", "mysql://x", "PIKIR_DATABASE__URL"),
        ("PIKIR_TELEGRAM__MODE", "carrier-pigeon", "PIKIR_TELEGRAM__MODE"),
        ("PIKIR_REPORTS__TIMEZONE", "Mars/Olympus", "PIKIR_REPORTS__TIMEZONE"),
    ],
)
def test_bad_value_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith(f"bad setting {expected}:")
    assert "\n" not in message


def test_webhook_mode_needs_a_strong_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIKIR_TELEGRAM__TOKEN", "1:x")
    monkeypatch.setenv("PIKIR_TELEGRAM__MODE", "webhook")
    monkeypatch.setenv("PIKIR_TELEGRAM__WEBHOOK_URL", "https://example.org/tg")
    monkeypatch.setenv("PIKIR_TELEGRAM__WEBHOOK_SECRET", "short")
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET"):
        load_settings()


async def test_every_part_gets_what_the_environment_says(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The panel's session and lockout, the jobs' schedules, lease, retention and staff chat,
    the web chat's limits, origins and photo directory and the figures' suppression and
    baselines come from the environment, with no default of their own in between."""
    environment = {
        "DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'pikir.db'}",
        "DATABASE__POOL_SIZE": "3",
        "DATA_DIR": str(tmp_path),
        "SECURITY__SESSION_IDLE_MINUTES": "7",
        "SECURITY__LOGIN_DELAY_SECONDS": "11",
        "SLA__DELAY": "48",
        "HTTP__PUBLIC_URL": "https://pikir.example.kz/",
        "TELEGRAM__STAFF_CHAT_ID": "-100900",
        "TELEGRAM__STAFF_LANGUAGE": "kk",
        "SCHEDULER__AGGREGATE": "*/5 * * * *",
        "SCHEDULER__LEASE_MINUTES": "20",
        "RETENTION__DAYS": "90",
        "REPORTS__REFRESH_OVERLAP_MINUTES": "3",
        "REPORTS__MIN_CELL": "4",
        "REPORTS__CSAT_BASELINE": "0.5",
        "WEBCHAT__FLOOD_BURST": "7",
        "WEBCHAT__COOKIE_DAYS": "30",
        "WEBCHAT__EMBED_ORIGINS": '["https://egov.example"]',
    }
    for name, value in environment.items():
        monkeypatch.setenv(f"PIKIR_{name}", value)
    settings = load_settings()

    panel = panel_config(settings, b"k" * 32)
    assert panel.security.session_idle == timedelta(minutes=7)
    assert panel.security.login_first_delay == timedelta(seconds=11)
    assert panel.sla_hours["delay"] == 48
    assert panel.secure_cookies
    assert panel.telegram.staff_chat_id == "-100900"

    database = Database(settings.database.url)
    deps = job_deps(settings, database, None)
    await database.dispose()
    assert deps.schedules.aggregate == "*/5 * * * *"
    assert deps.schedules.lease == timedelta(minutes=20)
    assert deps.retention.days == 90
    assert deps.reports.refresh_overlap == timedelta(minutes=3)
    assert deps.telegram.staff_language == "kk"
    assert deps.panel_url == "https://pikir.example.kz/admin"
    assert deps.figures.min_cell == 4
    assert {spec.key: spec.baseline for spec in deps.figures.indicators}["csat"] == 0.5

    chat = chat_options(settings, b"k" * 32)
    assert chat.webchat.flood_burst == 7 and chat.webchat.cookie_days == 30
    assert chat.webchat.embed_origins == ["https://egov.example"]
    assert chat.max_concurrent_events == 3
    assert chat.uploads_dir == tmp_path / chat.upload_prefix
