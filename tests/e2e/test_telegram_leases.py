"""One bot, several processes: who polls, who sets the webhook, and what is never lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.main import build_app
from bot.settings import Settings
from bot.telegram.errors import TelegramStartRefused
from tests.e2e.conftest import WEBHOOK_SECRET, EmulatorClient, Service, make_settings

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def _token(settings: Settings) -> str:
    assert settings.telegram.token is not None
    return settings.telegram.token.get_secret_value()


async def _start_refused(settings: Settings) -> str:
    """Start the service expecting the bot to refuse; the reason it gave."""
    runner = web.AppRunner(build_app(settings), handle_signals=False, access_log=None)
    try:
        with pytest.raises(TelegramStartRefused) as refused:
            await runner.setup()
    finally:
        await runner.cleanup()
    return str(refused.value)


async def _set_webhook_by_hand(emulator: str, token: str, url: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emulator}/bot{token}/setWebhook", json={"url": url}) as response,
    ):
        assert (await response.json())["ok"] is True


async def test_polling_refuses_to_delete_a_webhook_unless_told(
    database_url: str, emulator: str, emulator_client: EmulatorClient, tmp_path: Path
) -> None:
    settings = make_settings(database_url, emulator, "polling", tmp_path)
    token = _token(settings)
    await _set_webhook_by_hand(emulator, token, "https://pikir.example/telegram/webhook")

    reason = await _start_refused(settings)
    assert "PIKIR_TELEGRAM__DELETE_WEBHOOK" in reason and "PIKIR_TELEGRAM__MODE" in reason
    webhook = await emulator_client.get("/_test/webhook", token=token)
    assert webhook["url"] == "https://pikir.example/telegram/webhook"

    told = settings.model_copy(
        update={"telegram": settings.telegram.model_copy(update={"delete_webhook": True})}
    )
    service = Service(told)
    await service.start()
    try:
        assert await emulator_client.get("/_test/webhook", token=token) is None
    finally:
        await service.stop()


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_second_polling_process_is_refused(
    database_url: str, emulator: str, emulator_client: EmulatorClient, tmp_path: Path
) -> None:
    first = Service(make_settings(database_url, emulator, "polling", tmp_path))
    await first.start()
    try:
        second = first.settings.model_copy(
            update={"http": first.settings.http.model_copy(update={"port": 0})}
        )
        reason = await _start_refused(second)
        assert "another process already polls this bot" in reason
    finally:
        await first.stop()
    # The lease goes with the process that held it: polling may start again.
    again = Service(first.settings)
    await again.start()
    await again.stop()


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_of_three_webhook_workers_one_sets_the_webhook(
    database_url: str, emulator: str, emulator_client: EmulatorClient, tmp_path: Path
) -> None:
    first = make_settings(database_url, emulator, "webhook", tmp_path)
    workers = []
    try:
        for _ in range(3):  # same bot and database, each on a port of its own
            own_port = make_settings(database_url, emulator, "webhook", tmp_path)
            worker = Service(own_port.model_copy(update={"telegram": first.telegram}))
            await worker.start()
            workers.append(worker)
        webhook = await emulator_client.get("/_test/webhook", token=_token(first))
        assert webhook["sets"] == 1 and webhook["secret"] == WEBHOOK_SECRET
    finally:
        for worker in workers:
            await worker.stop()


def test_set_webhook_command(emulator: str, tmp_path: Path) -> None:
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", emulator, "webhook", tmp_path
    )
    token = _token(settings)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PIKIR_")}
    environment |= {
        "PIKIR_DATABASE__URL": settings.database.url,
        "PIKIR_TELEGRAM__TOKEN": token,
        "PIKIR_TELEGRAM__API_URL": emulator,
        "PIKIR_TELEGRAM__MODE": "webhook",
        "PIKIR_TELEGRAM__WEBHOOK_URL": "https://pikir.example/telegram/webhook",
        "PIKIR_TELEGRAM__WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    run = subprocess.run(
        [sys.executable, "-m", "bot.main", "telegram", "set-webhook"],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "webhook set: https://pikir.example/telegram/webhook" in run.stdout
    with urllib.request.urlopen(f"{emulator}/_test/webhook?token={token}", timeout=5) as response:
        webhook = json.loads(response.read())["result"]
    assert webhook["url"] == "https://pikir.example/telegram/webhook"
    assert webhook["secret"] == WEBHOOK_SECRET

    environment["PIKIR_TELEGRAM__MODE"] = "polling"
    refused = subprocess.run(
        [sys.executable, "-m", "bot.main", "telegram", "set-webhook"],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 1 and "PIKIR_TELEGRAM__MODE=webhook" in refused.stderr
