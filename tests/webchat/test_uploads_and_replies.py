"""Photo uploads and staff replies through the outbox, on both databases."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
from sqlalchemy import func, select

from admin.figures.service import refresh
from bot.outbox import DeliveryRefused, OutboxWorker, OutgoingMessage, RateLimiter
from bot.web.app import web_sender
from bot.web.identity import chat_key
from storage.models import (
    Attachment,
    Channel,
    Feedback,
    MonthlyAggregate,
    OutboxMessage,
    OutboxStatus,
    WebMessage,
)
from storage.types import utcnow
from storage.uow import UnitOfWork
from tests.webchat.conftest import SECRET, Browser, ChatServer, StartChat, wait_for
from tests.webchat.images import GPS_MARKER, jpeg_with_exif, png
from tests.webchat.test_transport import LANG, walk_to_text_step


async def upload(
    browser: Browser,
    data: bytes,
    *,
    name: str = "photo.jpg",
    origin: str | None = None,
    content_type: str = "image/jpeg",
) -> tuple[int, dict[str, object]]:
    form = aiohttp.FormData()
    form.add_field("photo", data, filename=name, content_type=content_type)
    async with browser.session.post(
        browser.base / "chat/upload", data=form, headers={"Origin": origin or browser.origin}
    ) as response:
        return response.status, await response.json()


async def test_a_photo_is_stored_without_its_metadata_and_kept_with_the_feedback(
    start_chat: StartChat,
) -> None:
    server = await start_chat()
    browser = server.browser()
    await walk_to_text_step(browser, server)
    await browser.say("The queue machine was broken")
    assert browser.question["text"] == server.t(LANG, "photo.ask")
    status, answer = await upload(browser, jpeg_with_exif())
    assert (status, answer) == (200, {"ok": True})
    frame = await browser.until("messages")
    assert frame["messages"][0]["text"] == server.t(LANG, "web.photo_sent")
    assert browser.question["text"] == server.t(LANG, "consent.ask")
    [stored] = list(server.options.uploads_dir.iterdir())
    content = stored.read_bytes()
    assert content.startswith(b"\xff\xd8") and content.endswith(b"\xff\xd9")
    assert GPS_MARKER not in content and b"Aigerim" not in content and b"JFIF" in content
    await browser.press(server.t(LANG, "button.consent_no"))
    async with server.database.sessions() as session:
        attachment = (await session.scalars(select(Attachment))).one()
    assert attachment.location == f"uploads/web/{stored.name}"
    assert attachment.content_type == "image/jpeg" and attachment.size == len(content)


async def test_erasing_ones_data_removes_the_photo_files_and_keeps_the_figures(
    start_chat: StartChat,
) -> None:
    server = await start_chat()
    browser = server.browser()
    await walk_to_text_step(browser, server)
    await browser.say("The queue machine was broken")
    assert (await upload(browser, png()))[0] == 200
    await browser.until("messages")
    await browser.press(server.t(LANG, "button.consent_yes"))
    [stored] = list(server.options.uploads_dir.iterdir())
    await refresh(server.database, everything=True)
    before = await figures(server)
    assert before and all(row[2] >= 1 for row in before)

    await browser.say("/erase")
    await browser.press(server.t(LANG, "button.erase_yes"))
    assert not stored.exists()
    async with server.database.sessions() as session:
        attachment = (await session.scalars(select(Attachment))).one()
        feedback = (await session.scalars(select(Feedback))).one()
    assert attachment.location is None and attachment.erased_at is not None
    assert feedback.text is None and feedback.has_text
    await refresh(server.database, everything=True)
    assert await figures(server) == before


async def figures(server: ChatServer) -> list[tuple[str, int, int]]:
    async with server.database.sessions() as session:
        rows = await session.execute(
            select(
                MonthlyAggregate.month,
                func.sum(MonthlyAggregate.responses),
                func.sum(MonthlyAggregate.with_text),
            ).group_by(MonthlyAggregate.month)
        )
        return [(row[0], int(row[1]), int(row[2])) for row in rows]


async def test_uploads_are_checked(start_chat: StartChat) -> None:
    server = await start_chat(max_photo_bytes=50_000)
    browser = server.browser()
    await browser.open()
    # Not at the photo step: refused, nothing stored.
    status, answer = await upload(browser, png())
    assert status == 409 and answer["error"] == server.t(LANG, "photo.not_now")
    await browser.close()
    other = server.browser()
    await walk_to_text_step(other, server)
    # Too big, whatever it claims to be.
    status, answer = await upload(other, png() + b"\x00" * 60_000, name="a.png")
    assert status == 413 and answer["error"] == server.t(LANG, "photo.too_big")
    # Not an image, though named and declared as one.
    for fake in (b"<html><script>alert(1)</script>", b"GIF89a" + b"\x00" * 20, b""):
        status, answer = await upload(other, fake)
        assert status == 415 and answer["error"] == server.t(LANG, "web.photo_unreadable"), fake
    # A broken JPEG structure is refused too.
    status, _ = await upload(other, b"\xff\xd8\xff\xe1\xff\xff" + b"\x00" * 10)
    assert status == 415
    # A form without the photo field.
    async with other.session.post(
        other.base / "chat/upload", data={"note": "x"}, headers={"Origin": other.origin}
    ) as response:
        assert response.status == 400
    # Another site's page, or a request without the chat's cookie.
    status, _ = await upload(other, png(), origin="https://evil.example")
    assert status == 403
    status, _ = await upload(server.browser(), png())
    assert status == 401
    assert not server.options.uploads_dir.exists() or not any(server.options.uploads_dir.iterdir())
    # And a good one still goes through.
    status, _ = await upload(other, png(), name="p.png", content_type="image/png")
    assert status == 200


async def finished_with_consent(server: ChatServer) -> tuple[Browser, str]:
    browser = server.browser()
    await walk_to_text_step(browser, server)
    await browser.press(server.t(LANG, "button.skip_text"))
    await browser.press(server.t(LANG, "button.skip_photo"))
    frame = await browser.press(server.t(LANG, "button.consent_yes"))
    receipt = frame["messages"][-1]["text"]
    ref = next(word for word in receipt.split() if word.startswith("PK-")).rstrip(".")
    return browser, ref


async def queue_reply(server: ChatServer, browser: Browser, ref: str, text: str) -> None:
    async with UnitOfWork(server.database.sessions) as uow:
        uow.outbox.enqueue(
            channel=Channel.WEB,
            address=chat_key(SECRET, browser.cookie() or ""),
            kind="case_reply",
            text=text,
            payload={"ref": ref, "language": "en"},
        )
        await uow.commit()


def worker(server: ChatServer) -> OutboxWorker:
    sessions = server.database.sessions
    return OutboxWorker(sessions, {"web": web_sender(server.runtime)}, RateLimiter())


async def test_a_staff_reply_reaches_an_open_page_live(start_chat: StartChat) -> None:
    server = await start_chat()
    browser, ref = await finished_with_consent(server)
    await queue_reply(server, browser, ref, "We spoke to the operator. <b>Sorry!</b>")
    assert await worker(server).run_once() == 1
    frame = await browser.until("messages", wait=5)
    [message] = frame["messages"]
    assert message["from"] == "staff"
    assert message["text"] == (
        server.t(LANG, "web.staff_reply", ref=ref) + "\n\nWe spoke to the operator. <b>Sorry!</b>"
    )
    async with server.database.sessions() as session:
        row = (await session.scalars(select(OutboxMessage))).one()
    assert row.status is OutboxStatus.SENT


async def test_a_staff_reply_to_a_closed_page_is_shown_on_the_next_visit_once(
    start_chat: StartChat,
) -> None:
    server = await start_chat()
    browser, ref = await finished_with_consent(server)
    await browser.close()
    await queue_reply(server, browser, ref, "Your complaint was resolved.")
    assert await worker(server).run_once() == 1
    # At-least-once delivery: the same row delivered again adds nothing.
    async with server.database.sessions() as session:
        row = (await session.scalars(select(OutboxMessage))).one()
    sender = web_sender(server.runtime)
    await sender.send(OutgoingMessage(row.id, row.address, row.kind, row.text, row.payload))
    history = await browser.open(expect_start=False)
    staff = [m for m in history["messages"] if m["from"] == "staff"]
    assert len(staff) == 1 and staff[0]["text"].endswith("Your complaint was resolved.")
    # The conversation's buttons are still the latest question's, not taken by the reply.
    assert browser.question["buttons"]


async def test_the_web_sender_refuses_what_is_not_a_web_chat(start_chat: StartChat) -> None:
    server = await start_chat()
    sender = web_sender(server.runtime)
    for address in ("12345", "x" * 64, ""):
        try:
            await sender.send(OutgoingMessage(1, address, "case_reply", "hi"))
        except DeliveryRefused:
            continue
        raise AssertionError(f"{address!r} was accepted")


async def test_old_history_is_purged_but_the_feedback_stays(start_chat: StartChat) -> None:
    server = await start_chat()
    browser, _ref = await finished_with_consent(server)
    conversations = server.runtime.conversations
    assert await conversations.purge(utcnow() - timedelta(days=1)) == 0
    removed = await conversations.purge(utcnow() + timedelta(seconds=1))
    assert removed == len(browser.messages)
    async with server.database.sessions() as session:
        assert (await session.scalars(select(WebMessage))).all() == []


async def test_the_relay_only_pushes_to_the_chat_it_belongs_to(start_chat: StartChat) -> None:
    server = await start_chat()
    first, ref = await finished_with_consent(server)
    second = server.browser()
    await second.open()
    await queue_reply(server, first, ref, "Only for the first citizen")
    await worker(server).run_once()
    frame = await first.until("messages", wait=5)
    assert frame["messages"][0]["from"] == "staff"

    async def second_is_quiet() -> bool:
        try:
            await second.frame(wait=0.3)
        except TimeoutError:
            return True
        return False

    await wait_for(second_is_quiet)
