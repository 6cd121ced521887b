"""Fetching a citizen's Telegram photo by the bot's file id, from the Bot API emulator."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot

from bot.telegram.client import create_bot
from bot.telegram.files import TelegramFiles
from tests.e2e.conftest import free_port

pytestmark = pytest.mark.e2e
PHOTO = b"\xff\xd8\xff\xe0 a citizen's photo of the queue \xff\xd9"


@pytest.fixture
async def bots(emulator: str) -> AsyncIterator[tuple[Bot, Bot]]:
    """Two bots of the emulator; the first has the photo ``kept``."""
    tokens = [f"{500000 + n}:FILES{time.time_ns()}" for n in range(2)]
    async with aiohttp.ClientSession() as session:
        content = base64.b64encode(PHOTO).decode()
        body = {"token": tokens[0], "file_id": "kept", "content_base64": content}
        async with session.post(f"{emulator}/_test/file", json=body) as answer:
            assert answer.status == 200
    made = [create_bot(token, emulator) for token in tokens]
    yield made[0], made[1]
    for bot in made:
        await bot.session.close()


async def test_a_kept_photo_is_fetched_by_its_file_id(bots: tuple[Bot, Bot]) -> None:
    own, _ = bots
    assert await TelegramFiles(own).fetch("kept") == PHOTO


async def test_an_unknown_file_id_or_another_bots_file_gives_nothing(
    bots: tuple[Bot, Bot],
) -> None:
    own, other = bots
    assert await TelegramFiles(own).fetch("never-sent") is None
    # File ids are the bot's own: another bot cannot fetch this one.
    assert await TelegramFiles(other).fetch("kept") is None


async def test_an_unreachable_telegram_gives_nothing() -> None:
    bot = create_bot("500009:UNREACHABLE", f"http://127.0.0.1:{free_port()}")
    try:
        assert await TelegramFiles(bot).fetch("kept") is None
    finally:
        await bot.session.close()
