"""The citizen's flow over HTTP: aiogram ⇄ emulator, the real service, a real database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.conversation import Translator
from storage.database import Database
from storage.models import Conversation, Feedback, OutboxMessage, OutboxStatus, ProcessedUpdate
from storage.uow import UnitOfWork
from tests.e2e.conftest import (
    STAFF_CHAT,
    Citizen,
    EmulatorClient,
    Service,
    make_settings,
    wait_until,
)

pytestmark = pytest.mark.e2e
TRANSLATOR = Translator.load()


def t(lang: str, key: str, **params: object) -> str:
    return TRANSLATOR.text(lang, key, **params)


async def _service(database_url: str, emulator: str, mode: str, tmp_path: Path) -> Service:
    service = Service(make_settings(database_url, emulator, mode, tmp_path))
    await service.start()
    return service


def _citizen(client: EmulatorClient, service: Service, chat_id: int, lang: str) -> Citizen:
    token = service.settings.telegram.token
    assert token is not None
    return Citizen(client, token.get_secret_value(), chat_id, lang)


async def _count(database: Database, model: type) -> int:
    async with database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
async def test_deep_link_to_receipt(
    database: Database,
    database_url: str,
    emulator: str,
    emulator_client: EmulatorClient,
    tmp_path: Path,
    mode: str,
    lang: str,
) -> None:
    service = await _service(database_url, emulator, mode, tmp_path)
    try:
        citizen = _citizen(emulator_client, service, 5001, lang)
        await citizen.say("/start AST-01")
        # Telegram's language_code stands in for the language question: the greeting offers
        # the other two, and the office's QR code leads straight to the service question.
        messages = await citizen.messages()
        assert messages[0]["text"].startswith(t(lang, "start.welcome"))
        assert t(lang, "language.preselected") in messages[0]["text"]
        offered = messages[0]["reply_markup"]["inline_keyboard"][0]
        assert len(offered) == 2 and t(lang, f"language.name.{lang}") not in offered
        assert messages[-1]["text"] == t(lang, "category.ask")
        await citizen.press_first_of_last()
        assert await citizen.last_text() == t(lang, "service.ask")
        await citizen.press_first_of_last()
        await citizen.press("1")
        for _ in range(5):
            await citizen.press(t(lang, "button.no"))
        assert await citizen.last_text() == t(lang, "text.ask_low", limit=2000)
        await citizen.say("Оператор дөрекі сөйледі, 3 сағат кезекте тұрдым 😡 <script>")
        await citizen.photo()
        await citizen.press(t(lang, "button.consent_yes"))
        receipt = await citizen.last_text()
        async with database.sessions() as session:
            feedback = await session.scalar(select(Feedback))
        assert feedback is not None and feedback.ref in receipt
        assert receipt.startswith(t(lang, "receipt.done", ref=feedback.ref))
        assert feedback.language == lang and feedback.rating == 1
        assert feedback.text is not None and "<script>" in feedback.text
        answers = await emulator_client.get("/_test/answers")
        assert answers, "button presses were not answered"
        # The "/" menu was registered in every language, Russian as the default.
        menus = await emulator_client.get("/_test/menus", token=citizen.token)
        assert set(menus) == {"kk", "ru", "en", ""} and menus[""] == menus["ru"]
        assert [c["command"] for c in menus[lang]][:2] == ["start", "corruption"]
        assert {"command": "status", "description": t(lang, "menu.status")} in menus[lang]
        if mode == "webhook":
            hook = await emulator_client.get("/_test/webhook", token=citizen.token)
            assert hook["url"].endswith("/telegram/webhook")
    finally:
        await service.stop()


async def test_text_typed_at_a_button_is_kept_and_the_status_is_a_button_away(
    database: Database,
    database_url: str,
    emulator: str,
    emulator_client: EmulatorClient,
    tmp_path: Path,
) -> None:
    service = await _service(database_url, emulator, "polling", tmp_path)
    try:
        citizen = _citizen(emulator_client, service, 5101, "kk")
        await citizen.say("/start AST-01")
        await citizen.press(t("kk", "button.other_service"))
        await citizen.say("Кезекте үш сағат тұрдым")  # at the rating: kept, and said so
        assert await citizen.last_text() == f"{t('kk', 'text.kept')}\n\n{t('kk', 'rating.ask')}"
        await citizen.press("2")
        for _ in range(5):
            await citizen.press(t("kk", "button.skip"))
        assert t("kk", "text.offer_kept", text="Кезекте үш сағат тұрдым") in (
            await citizen.last_text()
        )
        await citizen.press(t("kk", "button.keep_text"))
        await citizen.press(t("kk", "button.skip_photo"))
        await citizen.press(t("kk", "button.consent_no"))
        async with database.sessions() as session:
            feedback = await session.scalar(select(Feedback))
        assert feedback is not None and feedback.text == "Кезекте үш сағат тұрдым"
        await citizen.press(t("kk", "button.status"))
        assert await citizen.last_text() == t(
            "kk", "status.line", ref=feedback.ref, state=t("kk", "status.new")
        )
        # One tap on the greeting's offer changes the language, however old that message is.
        await citizen.press("English")
        texts = [m["text"] for m in await citizen.messages()]
        assert any(text.startswith(t("en", "language.saved")) for text in texts), texts
    finally:
        await service.stop()


async def test_forged_webhook_calls_are_refused(
    database: Database,
    database_url: str,
    emulator: str,
    emulator_client: EmulatorClient,
    tmp_path: Path,
) -> None:
    service = await _service(database_url, emulator, "webhook", tmp_path)
    try:
        url = f"http://127.0.0.1:{service.settings.http.port}/telegram/webhook"
        update = {
            "update_id": 999,
            "message": {
                "message_id": 1,
                "date": 1,
                "text": "/start",
                "chat": {"id": 42, "type": "private"},
                "from": {"id": 42, "is_bot": False, "first_name": "X"},
            },
        }
        async with aiohttp.ClientSession() as session:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with session.post(url, json=update, headers=headers) as response:
                    assert response.status == 401
        assert await _count(database, Conversation) == 0
        assert await _count(database, ProcessedUpdate) == 0
    finally:
        await service.stop()


async def test_direct_corruption_report_alerts_the_staff_chat(
    database: Database,
    database_url: str,
    emulator: str,
    emulator_client: EmulatorClient,
    tmp_path: Path,
) -> None:
    service = await _service(database_url, emulator, "polling", tmp_path)
    try:
        citizen = _citizen(emulator_client, service, 5002, "ru")
        await citizen.say("/start ALA-01")
        await citizen.say("/corruption")
        assert await citizen.last_text() == t("ru", "text.ask_direct", limit=2000)
        await citizen.say("Просили 10 000 тенге за ускорение, мой тел. 87011234567")
        await citizen.press(t("ru", "button.skip_photo"))
        await citizen.press(t("ru", "button.consent_no"))
        async with database.sessions() as session:
            feedback = await session.scalar(select(Feedback))
        assert feedback is not None and feedback.is_direct_report
        staff = await wait_until(lambda: citizen.messages(int(STAFF_CHAT)))
        alert = staff[0]["text"]
        assert feedback.ref in alert and "ALA-01" in alert
        assert "https://pikir.example/admin/cases/" in alert
        assert "87011234567" not in alert and "тенге" not in alert
    finally:
        await service.stop()


async def test_restart_in_the_middle_of_the_flow(
    database: Database,
    database_url: str,
    emulator: str,
    emulator_client: EmulatorClient,
    tmp_path: Path,
) -> None:
    service = await _service(database_url, emulator, "polling", tmp_path)
    try:
        citizen = _citizen(emulator_client, service, 5003, "en")
        await citizen.say("/start AST-02")
        await citizen.press(t("en", "button.other_service"))
        assert await citizen.last_text() == t("en", "rating.ask")
        await service.stop()
        await service.start()  # a new process: new bot, dispatcher, engine
        await citizen.press("4")
        assert (await citizen.last_text()).startswith("(1/5)")
    finally:
        await service.stop()


async def test_a_duplicated_update_has_effect_once_and_asks_again(
    database: Database,
    database_url: str,
    emulator: str,
    emulator_client: EmulatorClient,
    tmp_path: Path,
) -> None:
    # Telegram delivers an update again only to a webhook (a polled one is confirmed).
    service = await _service(database_url, emulator, "webhook", tmp_path)
    try:
        citizen = _citizen(emulator_client, service, 5004, "kk")
        await citizen.say("/start AST-01")
        await citizen.press(t("kk", "button.other_service"))
        before = await citizen.messages()
        async with database.sessions() as session:
            version = await session.scalar(select(Conversation.version))
        redelivered = await emulator_client.post("/_test/redeliver", {"token": citizen.token})
        assert redelivered["update_id"]
        await wait_until(lambda: emulator_client.get("/_test/answers"))

        await asyncio.sleep(0.5)  # give a second handling every chance to show up
        after = await citizen.messages()
        # Nothing changed, but the question is asked once more: the first handling's replies
        # may never have reached the citizen.
        assert len(after) == len(before) + 1
        assert after[-1]["text"] == before[-1]["text"]
        async with database.sessions() as session:
            assert await session.scalar(select(Conversation.version)) == version
    finally:
        await service.stop()


async def test_a_flood_gets_one_notice_then_silence_and_no_rows(
    database: Database,
    database_url: str,
    emulator: str,
    emulator_client: EmulatorClient,
    tmp_path: Path,
) -> None:
    service = await _service(database_url, emulator, "polling", tmp_path)
    try:
        citizen = _citizen(emulator_client, service, 5005, "ru")
        for index in range(60):
            await citizen.say(f"спам {index}", expect_answer=False)
        notice = t("ru", "flood.notice")

        async def settled() -> bool:
            texts = [m["text"] for m in await citizen.messages()]
            return notice in texts

        await wait_until(settled)

        async def all_answered() -> list[str] | None:
            texts = [m["text"] for m in await citizen.messages()]
            rows = await _count(database, ProcessedUpdate)
            return texts if rows and len(texts) - 1 == rows else None

        # Every allowed update was answered once (the flood's notice is queued ahead of the
        # allowed updates still waiting their turn, so it may come before their replies).
        await asyncio.sleep(0.3)
        texts = await wait_until(all_answered)
        # One notice; the rest of the flood is dropped without a word.
        assert texts.count(notice) == 1
        burst = service.settings.telegram.flood_burst
        assert burst <= len(texts) - 1 < 30  # the allowance (plus what refilled meanwhile)
        # Only the allowed updates reached the database; the dropped ones left no rows.
        assert await _count(database, ProcessedUpdate) == len(texts) - 1
    finally:
        await service.stop()


async def test_staff_reply_through_the_outbox_and_429_handling(
    database: Database,
    database_url: str,
    emulator: str,
    emulator_client: EmulatorClient,
    tmp_path: Path,
) -> None:
    service = await _service(database_url, emulator, "polling", tmp_path)
    try:
        citizen = _citizen(emulator_client, service, 5006, "en")
        await emulator_client.post("/_test/fail", {"count": 2, "retry_after": 1})
        await emulator_client.post("/_test/block", {"chat_id": 6006})
        from storage.models import Channel

        async with UnitOfWork(database.sessions) as uow:
            reply = uow.outbox.enqueue(
                channel=Channel.TELEGRAM,
                address="5006",
                kind="reply",
                text="Answer to PK-TEST: the operator was spoken to. Thank you.",
            )
            blocked = uow.outbox.enqueue(
                channel=Channel.TELEGRAM, address="6006", kind="reply", text="to a blocked chat"
            )
            await uow.commit()
        service.wake_outbox()
        delivered = await wait_until(citizen.messages, within=15)
        assert delivered[0]["text"].startswith("Answer to PK-TEST")
        stats = await emulator_client.get("/_test/stats")
        assert stats["rejected429"] == 2

        async def final_states() -> tuple[OutboxMessage, OutboxMessage] | None:
            async with database.sessions() as session:
                a = await session.get(OutboxMessage, reply.id)
                b = await session.get(OutboxMessage, blocked.id)
            done = a and b and a.status == OutboxStatus.SENT and b.status == OutboxStatus.FAILED
            return (a, b) if done else None

        sent, failed = await wait_until(final_states, within=15)
        assert sent.attempts == 1  # waiting out retry_after is not a failed attempt
        assert failed.attempts == 1 and "blocked" in (failed.last_error or "")
    finally:
        await service.stop()
