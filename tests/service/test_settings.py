"""Settings: environment names, nesting, secrets, one-line errors."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings


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
