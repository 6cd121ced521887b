"""Small pure parts of the core: callback data, event parsing, the flood guard, the draft."""

from __future__ import annotations

import pytest

from bot.conversation import Command, FloodGuard, Start, Text, Verdict, parse_text
from bot.conversation.callbacks import Action, Answer, decode, encode
from bot.conversation.events import language_from_hint
from bot.conversation.ports import PhotoRef
from bot.conversation.prompts import Prompter
from bot.conversation.replies import Button
from bot.conversation.state import Draft, Step
from bot.conversation.turn import Limits


def test_callback_data_round_trips_and_fits_telegram() -> None:
    data = encode(123456789, Action.CATEGORY, "civil_status_and_other_long_category_x")
    assert len(data.encode()) <= 64
    pressed = decode(data)
    assert pressed is not None and pressed.version == 123456789
    assert pressed.action is Action.CATEGORY
    assert decode("nonsense") is None and decode("x|c|1") is None and decode("1||2") is None
    assert decode("1|zz|2") is None  # an action this version does not know
    with pytest.raises(ValueError):
        encode(1, Action.CATEGORY, "x" * 70)
    with pytest.raises(ValueError):
        Button("label", "x" * 65)


def test_typed_commands_become_events() -> None:
    assert parse_text("/start AST-01") == Start("AST-01")
    assert parse_text("/start") == Start(None)
    assert parse_text("/Status@PikirBot  pk-1 ") == Command("status", "pk-1")
    assert parse_text("hello /start") == Text("hello /start")
    assert parse_text("/") == Text("/")
    assert parse_text("/привет") == Command("привет", "")
    assert language_from_hint("kk-KZ") == "kk" and language_from_hint("de") is None


def test_flood_guard_notices_once_then_stays_silent_then_recovers() -> None:
    now = [0.0]
    guard = FloodGuard(rate=1.0, burst=3, clock=lambda: now[0], cooldown=5.0)
    verdicts = [guard.check("chat") for _ in range(6)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.NOTICE, Verdict.SILENT, Verdict.SILENT]
    assert guard.check("other") is Verdict.ALLOW
    # A steady stream slower than the burst but never quiet for the cooldown stays silent.
    for _ in range(10):
        now[0] += 2.0
        assert guard.check("chat") is Verdict.SILENT
    now[0] += 5.0
    assert [guard.check("chat") for _ in range(3)] == [Verdict.ALLOW] * 3


def test_flood_guard_memory_is_bounded() -> None:
    now = [0.0]
    guard = FloodGuard(rate=1.0, burst=2, clock=lambda: now[0], max_chats=10)
    for index in range(100):
        now[0] += 0.01
        for _ in range(3):  # each chat floods, so it is muted too
            guard.check(str(index))
    assert len(guard._buckets) <= 10 and len(guard._muted_until) <= 10


def test_draft_from_bad_json_is_safe() -> None:
    draft = Draft.from_data({"language": "de", "rating": "x", "criteria": [1], "page": 3})
    assert draft.language is None and draft.rating is None and draft.criteria == {}
    assert draft.page == 3


def test_button_actions_keep_their_wire_codes() -> None:
    """Buttons on messages already sent carry these codes: they never change meaning."""
    assert {action.name: action.value for action in Action} == {
        "BACK": "b",
        "CANCEL": "x",
        "START_AGAIN": "g",
        "SWITCH_LANGUAGE": "L",
        "STATUS": "q",
        "LANGUAGE": "l",
        "REGION": "r",
        "OFFICE": "o",
        "OFFICE_PAGE": "op",
        "CATEGORY": "c",
        "SERVICE": "s",
        "SERVICE_PAGE": "sp",
        "RATING": "n",
        "CRITERION": "k",
        "TEXT": "t",
        "SKIP_PHOTO": "p",
        "CONSENT": "a",
        "ERASE": "e",
    }
    assert [answer.value for answer in Answer] == ["y", "n", "s", "k", "-"]
    assert encode(7, Action.CONSENT, Answer.YES) == "7|a|y"


def test_every_step_has_a_question() -> None:
    prompter = Prompter(Limits())
    assert set(prompter._questions) == set(Step)


def test_a_draft_in_the_stored_json_format_round_trips_with_typed_photos() -> None:
    stored = {
        "language": "kk",
        "direct": True,
        "office_id": 3,
        "text": "ақша сұрады",
        "photos": [{"file_ref": "AgAD-1", "size": 2048, "content_type": "image/jpeg"}],
        "history": ["region", "office"],
    }
    draft = Draft.from_data(stored)
    assert draft.photos == [PhotoRef("AgAD-1", 2048, "image/jpeg")]
    data = draft.to_data()
    assert {name: data[name] for name in stored} == stored
    broken = Draft.from_data({"photos": [{"file_ref": "x"}, "y", {"size": True}]})
    assert broken.photos == []
