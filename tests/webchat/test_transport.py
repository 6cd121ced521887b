"""The web chat's transport on both databases: page, socket, resume, limits, bad input."""

from __future__ import annotations

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.settings import WebChatSettings
from bot.web.identity import chat_key
from bot.web.socket import NO_COOKIE_CLOSE_CODE
from storage.models import Channel, Conversation, Feedback, Office, Respondent, WebMessage
from tests.webchat.conftest import SECRET, Browser, ChatServer, StartChat

LANG = "en"


async def walk_to_text_step(browser: Browser, server: ChatServer, lang: str = LANG) -> None:
    """From an office's QR code, in the page's language ``lang``, to the free-text question."""
    t = lambda key, **kw: server.t(lang, key, **kw)  # noqa: E731
    await browser.open("AST-01", lang)
    # The page's language stands in for the language question.
    assert browser.question["text"] == t("category.ask")
    await browser.press_nth(0)
    assert browser.question["text"] == t("service.ask")
    await browser.press_nth(0)
    await browser.press("4")
    for _ in range(5):
        await browser.press(t("button.yes"))
    assert browser.question["text"] == t("text.ask", limit=2000)
    assert browser.question["expects_text"]


async def count(server: ChatServer, model: type, *where: object) -> int:
    async with server.database.sessions() as session:
        query = select(func.count()).select_from(model)
        for condition in where:
            query = query.where(condition)  # type: ignore[arg-type]
        return int(await session.scalar(query) or 0)


async def test_page_sets_an_httponly_samesite_cookie_and_a_strict_policy(
    start_chat: StartChat,
) -> None:
    server = await start_chat()
    browser = server.browser()
    response = await browser.load("?office=AST-01")
    assert response.status == 200
    cookie = response.cookies["pikir_chat"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/chat"
    assert len(cookie.value) >= 43
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe" not in policy
    assert "frame-ancestors 'self'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # The same browser keeps its conversation.
    token = browser.cookie()
    await browser.load()
    assert browser.cookie() == token
    # Another browser gets another one.
    other = server.browser()
    await other.load()
    assert other.cookie() not in (None, token)


async def test_page_language_is_guessed_then_follows_the_conversation(
    start_chat: StartChat,
) -> None:
    server = await start_chat()
    browser = server.browser(accept_language="kk-KZ,kk;q=0.9,ru;q=0.8,en;q=0.5")
    async with browser.session.get(server.url / "chat") as response:
        page = await response.text()
    assert '<html lang="kk">' in page and server.t("kk", "web.send") in page
    await browser.connect()
    await browser.send({"type": "open", "office": None, "lang": "kk"})
    await browser.until("history")
    await browser.until("messages")
    assert browser.question["text"] == server.t("kk", "region.ask")
    frame = await browser.press_earlier(server.t("ru", "language.name.ru"))
    assert frame["lang"] == "ru"
    async with browser.session.get(server.url / "chat") as response:
        page = await response.text()
    assert '<html lang="ru">' in page and server.t("ru", "web.placeholder") in page


async def test_a_whole_feedback_over_the_socket_is_recorded_as_web(
    start_chat: StartChat,
) -> None:
    server = await start_chat()
    browser = server.browser()
    await walk_to_text_step(browser, server)
    await browser.say("Waited an hour, the operator was polite though.")
    assert browser.question["text"] == server.t(LANG, "photo.ask")
    await browser.press(server.t(LANG, "button.skip_photo"))
    frame = await browser.press(server.t(LANG, "button.consent_yes"))
    receipt = frame["messages"][-1]["text"]
    async with server.database.sessions() as session:
        feedback = (await session.scalars(select(Feedback))).one()
        respondent = await session.get(Respondent, feedback.respondent_id)
        office = await session.get(Office, feedback.office_id)
    assert office is not None and office.code == "AST-01"
    assert feedback.ref in receipt
    assert feedback.channel is Channel.WEB and feedback.rating == 4
    assert feedback.office_id is not None
    assert feedback.text == "Waited an hour, the operator was polite though."
    token = browser.cookie()
    assert token is not None and respondent is not None
    # Replies go to the chat's key: a keyed hash of the cookie, never the cookie itself.
    assert respondent.reply_address == chat_key(SECRET, token)
    assert token not in (respondent.reply_address, respondent.subject_hash)
    # The citizen's pressed buttons are part of the history, as their own bubbles.
    citizen = [m["text"] for m in browser.messages if m["from"] == "citizen"]
    assert "4" in citizen and server.t(LANG, "button.yes") in citizen


async def test_a_reload_resumes_at_the_same_step_with_the_history(
    start_chat: StartChat,
) -> None:
    server = await start_chat()
    browser = server.browser()
    await browser.open("AST-01")
    await browser.press_nth(0)
    await browser.press_nth(0)
    before = list(browser.messages)
    assert browser.question["text"] == server.t(LANG, "rating.ask")
    await browser.close()

    # The page is loaded again (the QR code's office is no longer in the address).
    history = await browser.open(expect_start=False)
    assert [m["id"] for m in history["messages"]] == [m["id"] for m in before]
    assert browser.question["text"] == server.t(LANG, "rating.ask")
    await browser.press("5")
    assert browser.question["text"].startswith("(1/5)")

    # Even the QR code's address, reopened in the middle of a feedback, does not restart it.
    await browser.close()
    await browser.open("AST-01", expect_start=False)
    assert browser.question["text"].startswith("(1/5)")
    with pytest.raises(TimeoutError):
        await browser.frame(wait=0.5)


async def test_the_qr_code_after_a_finished_feedback_starts_a_new_one(
    start_chat: StartChat,
) -> None:
    server = await start_chat()
    browser = server.browser()
    await walk_to_text_step(browser, server)
    await browser.press(server.t(LANG, "button.skip_text"))
    await browser.press(server.t(LANG, "button.skip_photo"))
    await browser.press(server.t(LANG, "button.consent_no"))
    await browser.close()
    await browser.open("AST-02")
    # Language is remembered: straight to the welcome with the new office, then the category.
    assert browser.question["text"] == server.t(LANG, "category.ask")


async def test_every_open_page_of_a_browser_sees_new_messages(start_chat: StartChat) -> None:
    server = await start_chat()
    first = server.browser()
    await first.open()
    second = Browser(first.session, first.base, first.origin)
    await second.connect()
    await second.send({"type": "open", "office": None, "lang": None})
    await second.until("history")
    await first.press_nth(0)
    frame = await second.until("messages")
    assert frame["messages"][-1]["text"] == first.question["text"]
    await second.close()


async def test_per_conversation_rate_limit_drops_the_flood(start_chat: StartChat) -> None:
    server = await start_chat(webchat=WebChatSettings(flood_burst=4, flood_per_second=0.01))
    browser = server.browser()
    await browser.open()  # the open frame takes one token
    for index in range(3):
        await browser.say(f"message {index}")
    before = await count(server, WebMessage)
    await browser.send({"type": "text", "text": "flood 1"})
    error = await browser.until("error")
    assert error["code"] == "rate_limited" and error["text"] == server.t(LANG, "flood.notice")
    await browser.send({"type": "text", "text": "flood 2"})
    with pytest.raises(TimeoutError):
        await browser.frame(wait=0.5)  # silence after one notice
    assert await count(server, WebMessage) == before  # a dropped event writes nothing


async def test_per_address_limits(start_chat: StartChat) -> None:
    server = await start_chat(
        webchat=WebChatSettings(
            ip_burst=3,
            ip_per_second=0.01,
            new_chats_burst=2,
            new_chats_per_minute=0.1,
            max_sockets_per_ip=2,
        )
    )
    one, two = server.browser(), server.browser()
    await one.open()
    await two.open()
    await one.say("a")
    await two.send({"type": "text", "text": "b"})
    assert (await two.until("error"))["code"] == "rate_limited"
    # A third socket from the same address is refused.
    third = Browser(one.session, one.base, one.origin)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await third.connect()
    assert refused.value.status == 429
    # New conversations from one address are limited too.
    response = await server.browser().load()
    assert response.status == 429
    assert response.headers["Retry-After"] == "60"


async def test_bad_frames_get_a_clear_answer_and_the_chat_goes_on(
    start_chat: StartChat,
) -> None:
    server = await start_chat()
    browser = server.browser()
    await browser.load()
    await browser.connect()
    await browser.send({"type": "text", "text": "before open"})
    assert (await browser.until("error"))["code"] == "bad_frame"
    await browser.send({"type": "open", "office": None, "lang": "en"})
    await browser.until("history")
    await browser.until("messages")
    assert browser.socket is not None
    bad = [
        "not json",
        "[1, 2]",
        '{"type": "delete_everything"}',
        '{"type": "text", "text": 42}',
        '{"type": "press", "data": "' + "x" * 200 + '"}',
        '{"type": "open", "office": {"$ne": 1}}',
        "{" * 10_000,
    ]
    for raw in bad:
        await browser.socket.send_str(raw)
        error = await browser.until("error")
        assert error["code"] == "bad_frame", raw
        assert error["text"] == server.t(LANG, "web.bad_frame")
    await browser.socket.send_bytes(b"\x00\x01")
    assert (await browser.until("error"))["code"] == "bad_frame"
    # A forged button (well-formed but not ours) is answered as stale by the core.
    await browser.send({"type": "press", "data": "999|l|en"})
    frame = await browser.until("messages")
    assert frame["notice"] == server.t(LANG, "stale.notice")
    # And the conversation goes on.
    assert browser.question["text"] == server.t(LANG, "region.ask")
    await browser.press_nth(0)
    assert browser.question["text"] == server.t(LANG, "office.ask")


async def test_control_characters_and_odd_unicode_are_stored_safely(
    start_chat: StartChat,
) -> None:
    server = await start_chat()
    browser = server.browser()
    await browser.open()
    assert browser.socket is not None
    await browser.socket.send_str('{"type": "text", "text": "nul\\u0000 lone\\ud800 ok 😀 ә"}')
    frame = await browser.until("messages")
    assert frame["messages"][0]["text"] == "nul lone ok 😀 ә"


async def test_over_long_text_is_cut_with_a_notice(start_chat: StartChat) -> None:
    server = await start_chat()
    browser = server.browser()
    await walk_to_text_step(browser, server)
    frame = await browser.say("ә" * 5000)
    texts = [m["text"] for m in frame["messages"]]
    assert server.t(LANG, "text.too_long", limit=2000) in texts
    assert len(frame["messages"][0]["text"]) == 2000


async def test_an_oversized_frame_closes_the_socket(start_chat: StartChat) -> None:
    server = await start_chat(webchat=WebChatSettings(max_frame_bytes=4096))
    browser = server.browser()
    await browser.open()
    assert browser.socket is not None
    await browser.socket.send_str('{"type": "text", "text": "' + "x" * 5000 + '"}')
    message = await browser.socket.receive(timeout=5)
    assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert browser.socket.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
    # The conversation itself is fine: a new page carries on.
    await browser.open(expect_start=False)
    assert browser.question["text"] == server.t(LANG, "region.ask")


async def test_the_socket_checks_origin_and_cookie(start_chat: StartChat) -> None:
    server = await start_chat(webchat=WebChatSettings(allowed_origins=["https://egov.example"]))
    browser = server.browser()
    await browser.load()
    assert server.url.port is not None
    for origin in ("https://evil.example", "null", f"http://127.0.0.1:{server.url.port + 1}"):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await browser.connect(origin=origin)
        assert refused.value.status == 403, origin
    async with browser.session.get(server.url / "chat/ws") as response:  # no Origin at all
        assert response.status == 403
    # The public URL's origin and a configured one are fine.
    for origin in ("http://pikir.example", "https://egov.example"):
        socket = await browser.connect(origin=origin)
        await socket.close()
    # A socket without the chat's cookie has no conversation: the page is told why, and the
    # socket is closed with a code that says "do not reconnect".
    stranger = server.browser()
    socket = await stranger.connect()
    assert await stranger.frame() == {"type": "blocked", "reason": "cookie"}
    closing = await socket.receive(timeout=5)
    assert closing.type is aiohttp.WSMsgType.CLOSE and closing.data == NO_COOKIE_CLOSE_CODE
    assert await count(server, Conversation) == 0


async def test_cookieless_sockets_count_against_the_address(start_chat: StartChat) -> None:
    server = await start_chat(webchat=WebChatSettings(ip_per_second=0.001, ip_burst=2))
    for _ in range(2):
        stranger = server.browser()
        await stranger.connect()
        assert (await stranger.frame())["type"] == "blocked"
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await server.browser().connect()
    assert refused.value.status == 429


async def test_markup_travels_as_plain_text(start_chat: StartChat) -> None:
    server = await start_chat()
    browser = server.browser()
    await walk_to_text_step(browser, server)
    payload = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    frame = await browser.say(payload)
    assert frame["messages"][0] == {**frame["messages"][0], "from": "citizen", "text": payload}
    async with browser.session.get(server.url / "chat") as response:
        page = await response.text()
    assert "<script>alert" not in page  # the page itself never carries the history


async def test_erasing_ones_data_forgets_the_history(start_chat: StartChat) -> None:
    server = await start_chat()
    browser = server.browser()
    await walk_to_text_step(browser, server)
    await browser.say("/erase")
    frame = await browser.press(server.t(LANG, "button.erase_yes"))
    assert frame["reset"] is True
    assert [m["text"] for m in frame["messages"]] == [server.t(LANG, "erase.done")]
    key = chat_key(SECRET, browser.cookie() or "")
    assert await count(server, WebMessage, WebMessage.chat_key == key) == 1
    history = await browser.open(expect_start=False)
    assert [m["text"] for m in history["messages"]] == [server.t(LANG, "erase.done")]


async def test_conversation_row_is_keyed_by_the_hash(start_chat: StartChat) -> None:
    server = await start_chat()
    browser = server.browser()
    await browser.open()
    key = chat_key(SECRET, browser.cookie() or "")
    assert await count(server, Conversation, Conversation.chat_key == key) == 1
