"""The citizen's conversation, step by step, in all three languages, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.conversation import Command, ConversationService, Press, Start, Translator
from storage.database import Database
from storage.models import Attachment, Case, Conversation, Feedback, OutboxMessage, Respondent
from tests.conversation.conftest import CASE_URL, STAFF_CHAT, Citizen, make_service, texts

LANGS = ["kk", "ru", "en"]


async def _feedback(database: Database) -> list[Feedback]:
    async with database.sessions() as session:
        return list((await session.scalars(select(Feedback).order_by(Feedback.id))).all())


async def _count(database: Database, model: type) -> int:
    async with database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("lang", LANGS)
async def test_full_flow_from_a_qr_code(
    service: ConversationService, database: Database, translator: Translator, lang: str
) -> None:
    t = lambda key, **kw: translator.text(lang, key, **kw)  # noqa: E731
    citizen = Citizen(service)
    first = await citizen.send(Start("ast-01"))
    assert citizen.last.text == t("language.ask")
    await citizen.press(t(f"language.name.{lang}"))
    # The office came from the QR code: straight to the service category.
    assert t("start.office", office="").split("{")[0].strip() in texts(citizen.outcomes[-1])
    assert citizen.last.text == t("category.ask")
    assert first.replies and not first.replies[0].edit
    await citizen.press_nth(0)  # first category
    assert citizen.last.text == t("service.ask")
    await citizen.press_nth(0)  # first service
    assert citizen.last.text == t("rating.ask")
    await citizen.press("2")
    answers = ["button.yes", "button.no", "button.skip", "button.yes", "button.yes"]
    for index, answer in enumerate(answers):
        assert citizen.last.text.startswith(f"({index + 1}/5)")
        await citizen.press(t(answer))
    assert citizen.last.text == t("text.ask_low", limit=2000)  # a low rating asks for detail
    assert citizen.last.expects_text
    await citizen.say("Очередь 2 часа, оператор нагрубил 😡 <b>html</b>")
    assert citizen.last.text == t("photo.ask")
    await citizen.photo(size=50_000)
    assert citizen.last.text == t("consent.ask")
    consent = citizen.last
    outcome = await citizen.press(t("button.consent_yes"))
    ref = outcome.submitted_ref
    assert ref is not None and ref in outcome.replies[0].text
    assert outcome.replies[0].edit

    [feedback] = await _feedback(database)
    assert feedback.ref == ref
    assert feedback.language == lang
    assert feedback.rating == 2
    assert (feedback.crit_politeness, feedback.crit_waiting, feedback.crit_information) == (
        True,
        False,
        None,
    )
    assert feedback.crit_result is True
    assert feedback.crit_no_extra_payment is False  # "asked for money?" — yes
    assert feedback.text == "Очередь 2 часа, оператор нагрубил 😡 <b>html</b>"
    assert feedback.consent_contact is True
    assert feedback.office_id is not None and feedback.service_id is not None
    async with database.sessions() as session:
        attachment = await session.scalar(select(Attachment))
        assert attachment is not None and attachment.size == 50_000
        case = await session.scalar(select(Case))
        assert case is not None  # rating 2 is flagged
        respondent = await session.get(Respondent, feedback.respondent_id)
        assert respondent is not None and respondent.reply_address == "100"
        assert respondent.subject_hash != "user-100" and len(respondent.subject_hash) == 64
    # The receipt is final: pressing consent again is stale and records nothing new.
    again = await citizen.send(Press(citizen.data_of(t("button.consent_yes"), consent)))
    assert again.notice == t("stale.notice") and again.submitted_ref is None
    assert await _count(database, Feedback) == 1


async def test_office_by_region_paging_and_search(
    service: ConversationService, database: Database, translator: Translator
) -> None:
    t = lambda key, **kw: translator.text("en", key, **kw)  # noqa: E731
    citizen = Citizen(service, hint="en-GB")
    await citizen.send(Start())  # the device's language is taken: no language question
    assert citizen.last.text == t("region.ask")
    await citizen.press("Almaty city")
    assert citizen.last.text == t("office.ask")
    first_page = [label for label, _ in citizen.buttons()]
    if t("button.next") in first_page:
        outcome = await citizen.press(t("button.next"))
        assert outcome.replies[0].edit
        assert t("button.prev") in [label for label, _ in citizen.buttons()]
    await citizen.press(t("button.back"))
    assert citizen.last.text == t("region.ask")
    await citizen.say("x")
    assert t("search.too_short") in citizen.last.text
    await citizen.say("zzzzqqq")
    assert t("search.none", needle="zzzzqqq") in citizen.last.text
    await citizen.say("yesil")
    assert citizen.last.text == t("office.results", needle="yesil")
    await citizen.press_nth(0)
    assert citizen.last.text == t("category.ask")
    await citizen.press(t("button.other_service"))
    assert citizen.last.text == t("rating.ask")
    await citizen.say("5")  # typed digits work too
    assert citizen.last.text.startswith("(1/5)")


async def test_unknown_office_code_gets_a_note_then_the_normal_flow(
    service: ConversationService, translator: Translator
) -> None:
    citizen = Citizen(service, hint="ru")
    outcome = await citizen.send(Start("NOPE-99"))
    assert translator.text("ru", "start.unknown_office", code="NOPE-99") in texts(outcome)
    assert citizen.last.text == translator.text("ru", "region.ask")


async def test_back_and_cancel(service: ConversationService, translator: Translator) -> None:
    t = lambda key, **kw: translator.text("kk", key, **kw)  # noqa: E731
    citizen = Citizen(service)
    await citizen.send(Start("AST-01"))
    await citizen.press("Қазақша")
    await citizen.press(t("button.other_service"))
    await citizen.press("4")
    await citizen.press(t("button.yes"))
    assert citizen.last.text.startswith("(2/5)")
    await citizen.press(t("button.back"))
    assert citizen.last.text.startswith("(1/5)")
    await citizen.press(t("button.back"))
    assert citizen.last.text == t("rating.ask")
    await citizen.say("/back")
    assert citizen.last.text == t("category.ask")
    await citizen.say("/back")
    assert t("back.none") in citizen.last.text
    await citizen.press(t("button.cancel"))
    assert citizen.last.text == t("cancel.done")
    await citizen.say("hello")
    assert citizen.last.text == t("idle.hint")


async def test_direct_corruption_report_alerts_staff_without_personal_data(
    service: ConversationService, database: Database, translator: Translator
) -> None:
    t = lambda key, **kw: translator.text("ru", key, **kw)  # noqa: E731
    citizen = Citizen(service)
    await citizen.send(Start("SHY-01"))
    await citizen.press("Русский")
    await citizen.say("/corruption")
    assert t("corruption.intro") in texts(citizen.outcomes[-1])
    assert citizen.last.text == t("text.ask_direct", limit=2000)
    assert t("button.skip_text") not in [label for label, _ in citizen.buttons()]
    await citizen.say("Сотрудник Иванов просил 20000 тенге, тел. +7 701 123 45 67")
    await citizen.press(t("button.skip_photo"))
    outcome = await citizen.press(t("button.consent_no"))
    assert outcome.submitted_ref and t("receipt.direct", ref=outcome.submitted_ref) in texts(
        outcome
    )
    [feedback] = await _feedback(database)
    assert feedback.is_direct_report and feedback.rating is None
    async with database.sessions() as session:
        case = await session.scalar(select(Case))
        alert = await session.scalar(select(OutboxMessage))
    assert case is not None and case.priority == 0
    assert alert is not None and alert.address == STAFF_CHAT and alert.kind == "staff_alert"
    assert feedback.ref in alert.text and f"{CASE_URL}/{case.id}" in alert.text
    assert "SHY-01" in alert.text and alert.text.startswith("⚠️ Сообщение о коррупции")
    assert "Иванов" not in alert.text and "701" not in alert.text


@pytest.mark.parametrize(
    ("staff_language", "heading"),
    [
        ("kk", "⚠️ Сыбайлас жемқорлық туралы хабарлама"),
        ("en", "⚠️ Corruption report"),
    ],
)
async def test_the_staff_alert_speaks_the_staff_chats_language_not_the_citizens(
    database: Database, translator: Translator, staff_language: str, heading: str
) -> None:
    citizen = Citizen(make_service(database, translator, staff_language), hint="ru")
    await citizen.send(Start("SHY-01"))
    await citizen.say("/corruption")
    await citizen.say("Просили деньги за очередь")
    await citizen.press(translator.text("ru", "button.skip_photo"))
    await citizen.press(translator.text("ru", "button.consent_no"))
    async with database.sessions() as session:
        alert = await session.scalar(select(OutboxMessage))
    assert alert is not None and alert.text.startswith(heading)
    assert "SHY-01" in alert.text and "%(" not in alert.text


async def test_corruption_tagged_complaint_alerts_staff(
    service: ConversationService, database: Database, translator: Translator
) -> None:
    t = lambda key, **kw: translator.text("en", key, **kw)  # noqa: E731
    citizen = Citizen(service, hint="en")
    await citizen.send(Start("AST-02"))
    await citizen.press(t("button.other_service"))
    await citizen.press("3")
    for _ in range(5):
        await citizen.press(t("button.skip"))
    await citizen.say("They wanted a bribe to speed it up")
    await citizen.press(t("button.skip_photo"))
    await citizen.press(t("button.consent_no"))
    async with database.sessions() as session:
        alert = await session.scalar(select(OutboxMessage))
        feedback = await session.scalar(select(Feedback))
    assert alert is not None and "corruption" in alert.text
    assert feedback is not None and feedback.consent_contact is False


async def test_status_language_help_and_unknown_commands(
    service: ConversationService, translator: Translator
) -> None:
    t = lambda key, lang="en", **kw: translator.text(lang, key, **kw)  # noqa: E731
    citizen = Citizen(service)
    await citizen.send(Start("AST-01"))
    await citizen.press("English")
    await citizen.press(t("button.other_service"))
    await citizen.press("5")
    await citizen.say("/language")
    await citizen.press("Русский")
    # Back where we were, now in Russian.
    assert t("language.saved", "ru") in texts(citizen.outcomes[-1])
    assert citizen.last.text.startswith("(1/5)")
    assert t("button.yes", "ru") in [label for label, _ in citizen.buttons()]
    await citizen.say("/help")
    assert t("help.text", "ru") in texts(citizen.outcomes[-1])
    assert citizen.last.text.startswith("(1/5)")
    await citizen.say("/frobnicate")
    assert t("command.unknown", "ru") in texts(citizen.outcomes[-1])
    await citizen.say("/status")
    assert t("status.usage", "ru") in texts(citizen.outcomes[-1])
    await citizen.say("/status PK-NOTHING1")
    assert "PK-NOTHING1" in texts(citizen.outcomes[-1])
    for _ in range(5):
        await citizen.press(t("button.skip", "ru"))
    await citizen.press(t("button.skip_text", "ru"))
    await citizen.press(t("button.skip_photo", "ru"))
    receipt = await citizen.press(t("button.consent_no", "ru"))
    ref = receipt.submitted_ref
    assert ref is not None
    outcome = await citizen.say(f"/status {ref.lower()}")
    assert texts(outcome) == t("status.line", "ru", ref=ref, state=t("status.received", "ru"))
    outcome = await citizen.say("/status")  # the last reference is remembered
    assert ref in texts(outcome)
    # The language is remembered for the next visit.
    outcome = await citizen.send(Start())
    assert t("start.welcome", "ru") in texts(outcome)


async def test_erasing_ones_data_keeps_the_numbers(
    service: ConversationService, database: Database, translator: Translator
) -> None:
    t = lambda key, **kw: translator.text("en", key, **kw)  # noqa: E731
    citizen = Citizen(service)
    await citizen.send(Start("AST-01"))
    await citizen.press("English")
    await citizen.press(t("button.other_service"))
    await citizen.press("1")
    for _ in range(5):
        await citizen.press(t("button.no"))
    await citizen.say("Rude guard at the entrance")
    await citizen.photo()
    await citizen.press(t("button.consent_yes"))
    await citizen.say("/erase")
    assert citizen.last.text == t("erase.ask")
    await citizen.press(t("button.erase_no"))
    assert t("erase.cancelled") in texts(citizen.outcomes[-1])
    assert (await _feedback(database))[0].text is not None
    await citizen.say("/forget")
    await citizen.press(t("button.erase_yes"))
    assert texts(citizen.outcomes[-1]) == t("erase.done")
    [feedback] = await _feedback(database)
    assert feedback.text is None and feedback.text_erased_at is not None
    assert feedback.respondent_id is None
    assert feedback.rating == 1 and feedback.has_text  # the numbers stay
    async with database.sessions() as session:
        attachment = await session.scalar(select(Attachment))
        conversation = await session.scalar(select(Conversation))
    assert attachment is not None and attachment.location is None and attachment.erased_at
    assert await _count(database, Respondent) == 0
    assert conversation is not None and conversation.respondent_id is None
    assert "Rude" not in str(conversation.data)


async def test_redelivered_update_has_effect_once(
    service: ConversationService, database: Database
) -> None:
    citizen = Citizen(service)
    first = await citizen.send(Start("AST-01"), update_key="42")
    again = await citizen.send(Start("AST-01"), update_key="42")
    # Nothing changes, but the question the first handling asked is asked again (its replies
    # may never have reached the citizen), with buttons that still work.
    assert again.duplicate and again.replies == first.replies[-1:]
    async with database.sessions() as session:
        conversation = await session.scalar(select(Conversation))
    assert conversation is not None and conversation.version == 1
    answered = await citizen.press("English")
    assert not answered.notice and not answered.duplicate  # not answered as out of date
    async with database.sessions() as session:
        conversation = await session.scalar(select(Conversation))
    assert conversation is not None and conversation.version == 2


async def test_a_redelivered_event_asks_nothing_when_no_question_is_open(
    service: ConversationService,
) -> None:
    citizen = Citizen(service)
    await citizen.send(Start("AST-01"), update_key="start")
    cancelled = await citizen.send(Command("cancel", ""), update_key="cancel")
    assert cancelled.replies
    again = await citizen.send(Command("cancel", ""), update_key="cancel")
    assert again.duplicate and not again.replies


async def test_stale_press_is_answered_and_the_flow_goes_on(
    service: ConversationService, translator: Translator
) -> None:
    t = lambda key, **kw: translator.text("en", key, **kw)  # noqa: E731
    citizen = Citizen(service)
    await citizen.send(Start("AST-01"))
    language_reply = citizen.last
    await citizen.press("English")
    outcome = await citizen.send(Press(citizen.data_of("Русский", language_reply)))
    assert outcome.notice == t("stale.notice")
    assert not outcome.replies[0].edit
    assert citizen.last.text == t("category.ask")  # the current step again
    forged = await citizen.send(Press("garbage|that|is|not|ours"))
    assert forged.notice == t("stale.notice")


async def test_long_text_is_cut_with_a_notice_and_any_unicode_is_kept(
    service: ConversationService, database: Database, translator: Translator
) -> None:
    t = lambda key, **kw: translator.text("kk", key, **kw)  # noqa: E731
    citizen = Citizen(service)
    await citizen.send(Start("AST-01"))
    await citizen.press("Қазақша")
    await citizen.press(t("button.other_service"))
    await citizen.press("3")
    for _ in range(5):
        await citizen.press(t("button.skip"))
    long_text = "Кезек өте ұзақ 🙁 \u202e ру 中文 " * 200
    outcome = await citizen.say(long_text + "\x00\x07")
    assert t("text.too_long", limit=2000) in texts(outcome)
    await citizen.press(t("button.skip_photo"))
    await citizen.press(t("button.consent_no"))
    [feedback] = await _feedback(database)
    assert feedback.text == long_text[:2000].strip()


async def test_a_new_process_continues_at_the_same_step(
    database: Database, translator: Translator
) -> None:
    citizen = Citizen(make_service(database, translator))
    await citizen.send(Start("AST-01"))
    await citizen.press("English")
    await citizen.press(translator.text("en", "button.other_service"))
    pending = citizen.data_of("4")
    # A fresh service (a restarted process, a second worker) on the same database.
    citizen.service = make_service(database, translator)
    await citizen.send(Press(pending))
    assert citizen.last.text.startswith("(1/5)")


async def test_photo_outside_the_text_steps_and_too_big(
    service: ConversationService, translator: Translator
) -> None:
    t = lambda key, **kw: translator.text("en", key, **kw)  # noqa: E731
    citizen = Citizen(service)
    await citizen.send(Start("AST-01"))
    await citizen.press("English")
    outcome = await citizen.photo()
    assert t("photo.not_now") in texts(outcome)
    await citizen.say("/corruption")
    outcome = await citizen.photo(size=50 * 1024 * 1024)
    assert t("photo.too_big") in texts(outcome)
    outcome = await citizen.photo(caption="He asked for money")
    assert citizen.last.text == t("consent.ask")


@pytest.mark.parametrize("lang", LANGS)
async def test_every_command_answers_in_the_citizens_language(
    service: ConversationService, translator: Translator, lang: str
) -> None:
    t = lambda key, **kw: translator.text(lang, key, **kw)  # noqa: E731
    citizen = Citizen(service, chat=f"cmd-{lang}")
    await citizen.send(Start("AST-01"))
    await citizen.press(t(f"language.name.{lang}"))
    assert t("help.text") in texts(await citizen.say("/help"))
    assert t("status.usage") in texts(await citizen.say("/status"))
    assert t("command.unknown") in texts(await citizen.say("/nonsense"))
    assert t("back.none") in texts(await citizen.say("/back"))
    assert citizen.last.text.endswith(t("category.ask"))  # the question follows each answer
    outcome = await citizen.say("/corruption")
    assert t("corruption.intro") in texts(outcome)
    assert citizen.last.text == t("text.ask_direct", limit=2000)  # the office is kept
    await citizen.say("/language")
    assert citizen.last.text == t("language.ask")
    await citizen.press(t(f"language.name.{lang}"))
    assert t("language.saved") in texts(citizen.outcomes[-1])
    await citizen.say("/erase")
    assert citizen.last.text == t("erase.ask")
    await citizen.press(t("button.erase_no"))
    assert citizen.last.text == t("text.ask_direct", limit=2000)  # back where we were
    assert texts(await citizen.say("/cancel")) == t("cancel.done")
    await citizen.say("/erase")
    await citizen.press(t("button.erase_yes"))
    assert texts(citizen.outcomes[-1]) == t("erase.done")


@pytest.mark.parametrize("lang", LANGS)
async def test_text_typed_at_a_button_step_is_kept_as_the_comment(
    service: ConversationService, database: Database, translator: Translator, lang: str
) -> None:
    t = lambda key, **kw: translator.text(lang, key, **kw)  # noqa: E731
    citizen = Citizen(service, hint=lang)
    await citizen.send(Start("AST-01"))
    await citizen.press(t("button.other_service"))
    assert citizen.last.text == t("rating.ask")
    await citizen.say("The operator shouted at me")
    # Said in the citizen's language, and the same question is asked again.
    assert citizen.last.text == f"{t('text.kept')}\n\n{t('rating.ask')}"
    await citizen.press("1")
    await citizen.say("and asked for money")  # at a criterion
    assert citizen.last.text.startswith(t("text.kept")) and "(1/5)" in citizen.last.text
    for _ in range(5):
        await citizen.press(t("button.skip"))
    kept = "The operator shouted at me\n\nand asked for money"
    assert citizen.last.text == (
        f"{t('text.ask_low', limit=2000)}\n\n{t('text.offer_kept', text=kept)}"
    )
    assert t("button.keep_text") in [label for label, _ in citizen.buttons()]
    await citizen.press(t("button.keep_text"))
    assert citizen.last.text == t("photo.ask")
    await citizen.say("It was on Monday")  # past the comment: added to it
    assert citizen.last.text.startswith(t("text.kept_added"))
    await citizen.press(t("button.skip_photo"))
    await citizen.press(t("button.consent_no"))
    [feedback] = await _feedback(database)
    assert feedback.text == kept + "\n\nIt was on Monday"


async def test_a_new_comment_replaces_the_kept_text_and_skip_drops_it(
    service: ConversationService, database: Database, translator: Translator
) -> None:
    t = lambda key, **kw: translator.text("en", key, **kw)  # noqa: E731
    citizen = Citizen(service, hint="en")
    await citizen.send(Start("AST-01"))
    await citizen.say("slow")  # at the category question
    await citizen.press(t("button.other_service"))
    await citizen.press("4")
    for _ in range(5):
        await citizen.press(t("button.yes"))
    assert t("text.offer_kept", text="slow") in citizen.last.text
    await citizen.say("Everything was fine in the end")
    await citizen.press(t("button.skip_photo"))
    await citizen.press(t("button.consent_no"))
    await citizen.send(Start("AST-01"))
    await citizen.say("typo")
    await citizen.press(t("button.other_service"))
    await citizen.press("5")
    for _ in range(5):
        await citizen.press(t("button.yes"))
    await citizen.press(t("button.skip_text"))
    await citizen.press(t("button.skip_photo"))
    await citizen.press(t("button.consent_no"))
    assert sorted(f.text or "" for f in await _feedback(database)) == [
        "",
        "Everything was fine in the end",
    ]


async def test_the_device_language_is_preselected_and_one_tap_changes_it(
    service: ConversationService, translator: Translator
) -> None:
    citizen = Citizen(service, hint="kk-KZ")
    welcome = await citizen.send(Start("AST-01"))
    # A QR visit in the citizen's language starts at the service question.
    assert citizen.last.text == translator.text("kk", "category.ask")
    offer = welcome.replies[0]
    assert translator.text("kk", "language.preselected") in offer.text
    assert [b.label for row in offer.buttons for b in row] == ["Русский", "English"]
    await citizen.press_nth(0)  # a category: the welcome's buttons are now old
    await citizen.send(Press(citizen.data_of("English", offer)))
    assert citizen.outcomes[-1].replies[0].text.startswith(translator.text("en", "language.saved"))
    assert citizen.last.text.endswith(translator.text("en", "service.ask"))
    # Remembered for the next visit, whatever the device says.
    await citizen.press(translator.text("en", "button.cancel"))
    await citizen.send(Start("AST-01"))
    assert citizen.last.text == translator.text("en", "category.ask")
    without_hint = Citizen(service, chat="200")
    await without_hint.send(Start("AST-01"))
    assert without_hint.last.text == translator.text("en", "language.ask")


async def test_the_receipt_has_a_status_button_that_works_later(
    service: ConversationService, translator: Translator
) -> None:
    t = lambda key, **kw: translator.text("ru", key, **kw)  # noqa: E731
    citizen = Citizen(service, hint="ru")
    await citizen.send(Start("AST-01"))
    await citizen.press(t("button.other_service"))
    await citizen.press("5")
    for _ in range(5):
        await citizen.press(t("button.yes"))
    await citizen.press(t("button.skip_text"))
    await citizen.press(t("button.skip_photo"))
    done = await citizen.press(t("button.consent_no"))
    receipt = done.replies[-1]
    ref = done.submitted_ref
    assert ref is not None
    await citizen.say("/help")  # the receipt is no longer the latest message
    outcome = await citizen.send(Press(citizen.data_of(t("button.status"), receipt)))
    assert outcome.replies[0].text == t("status.line", ref=ref, state=t("status.received"))


async def test_a_draft_stored_with_photos_as_plain_json_is_submitted_with_them(
    service: ConversationService, database: Database, translator: Translator
) -> None:
    """Conversations saved before photos were typed in the core keep loading: the stored
    JSON of a photo is still ``{"file_ref", "size", "content_type"}``."""
    t = lambda key, **kw: translator.text("en", key, **kw)  # noqa: E731
    citizen = Citizen(service, hint="en")
    await citizen.send(Start("AST-01"))
    await citizen.say("/corruption")
    await citizen.say("He asked for money to speed things up")
    await citizen.press(t("button.skip_photo"))
    assert citizen.last.text == t("consent.ask")
    stored_by_an_older_release = [
        {"file_ref": "old-file-1", "size": 4096, "content_type": "image/png"},
        {"file_ref": "old-file-2", "size": 777, "content_type": "image/jpeg"},
        {"file_ref": 12, "size": "broken", "content_type": None},  # malformed: dropped
    ]
    async with database.sessions() as session, session.begin():
        conversation = await session.scalar(select(Conversation))
        assert conversation is not None
        conversation.data = {**conversation.data, "photos": stored_by_an_older_release}
    await citizen.press(t("button.consent_no"))
    async with database.sessions() as session:
        attachments = (await session.scalars(select(Attachment).order_by(Attachment.id))).all()
        conversation = await session.scalar(select(Conversation))
    assert [(a.location, a.size, a.content_type) for a in attachments] == [
        ("old-file-1", 4096, "image/png"),
        ("old-file-2", 777, "image/jpeg"),
    ]
    assert conversation is not None and conversation.data["photos"] == []
