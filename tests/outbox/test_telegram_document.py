"""Sending a file (the monthly M&E pack) as a Telegram document, over real HTTP.

The Bot API emulator the end-to-end tests use has no ``sendDocument``, so here a small aiohttp
server plays the Bot API for that one method. aiogram's own client uploads the file as
multipart form data, exactly as it would to Telegram.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.outbox.ports import DeliveryRefused, OutgoingMessage
from bot.telegram.client import create_bot
from bot.telegram.sender import CAPTION_LIMIT, TelegramSender

TOKEN = "123456:DOCUMENT-TEST"


@pytest.fixture
async def bot_api(aiohttp_server: Any) -> tuple[str, list[dict[str, Any]]]:
    """A Bot API answering ``sendDocument``; returns its URL and the uploads it received."""
    uploads: list[dict[str, Any]] = []

    async def send_document(request: web.Request) -> web.Response:
        form = await request.post()
        document = form["document"]
        if isinstance(document, str) and document.startswith("attach://"):
            document = form[document.removeprefix("attach://")]  # how aiogram sends files
        assert isinstance(document, web.FileField)
        uploads.append(
            {
                "chat_id": form["chat_id"],
                "caption": form.get("caption"),
                "filename": document.filename,
                "content": document.file.read(),
            }
        )
        message = {
            "message_id": len(uploads),
            "date": 0,
            "chat": {"id": int(str(form["chat_id"])), "type": "private"},
            "document": {"file_id": "f", "file_unique_id": "u", "file_name": document.filename},
        }
        return web.json_response({"ok": True, "result": message})

    app = web.Application()
    app.router.add_post(f"/bot{TOKEN}/sendDocument", send_document)
    server = await aiohttp_server(app, host="127.0.0.1")
    return f"http://127.0.0.1:{server.port}", uploads


async def test_the_pack_goes_as_a_document_with_its_caption(
    bot_api: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, uploads = bot_api
    pack = tmp_path / "pikir-2026-10.xlsx"
    pack.write_bytes(b"PK\x03\x04 an xlsx file" * 100)
    bot = create_bot(TOKEN, url)
    try:
        await TelegramSender(bot).send(
            OutgoingMessage(
                id=1,
                address="777",
                kind="month_pack",
                text="Итоги за 2026-10 " + "x" * 2000,
                payload={"document_path": str(pack)},
            )
        )
    finally:
        await bot.session.close()
    [upload] = uploads
    assert upload["chat_id"] == "777" and upload["filename"] == "pikir-2026-10.xlsx"
    assert upload["content"] == pack.read_bytes()
    assert str(upload["caption"]).startswith("Итоги за 2026-10")
    assert len(str(upload["caption"])) == CAPTION_LIMIT  # Telegram's caption limit


async def test_a_missing_file_is_a_final_failure_not_a_retry(
    bot_api: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, uploads = bot_api
    bot = create_bot(TOKEN, url)
    try:
        with pytest.raises(DeliveryRefused, match="does not exist"):
            await TelegramSender(bot).send(
                OutgoingMessage(
                    id=2,
                    address="777",
                    kind="month_pack",
                    text="Итоги",
                    payload={"document_path": str(tmp_path / "gone.xlsx")},
                )
            )
    finally:
        await bot.session.close()
    assert uploads == []
