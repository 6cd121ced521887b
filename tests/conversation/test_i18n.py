"""Every text the citizen sees exists in Kazakh, Russian and English."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from bot.conversation import LANGUAGES, Translator
from bot.conversation.i18n import DEFAULT_LOCALES_DIR

BOT = Path(__file__).resolve().parents[2] / "bot"
# t(id), _(id), N_(id) and text(lang, id) are how the code names a message.
KEYWORDS = {"t": None, "_": None, "N_": None, "text": (2,)}


def _used_ids() -> set[str]:
    found: set[str] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(BOT), method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        ids = message if isinstance(message, tuple) else (message,)
        found.update(i for i in ids if i and "." in i and " " not in i)
    return found


def test_every_message_id_in_the_code_has_all_three_translations() -> None:
    translator = Translator.load(DEFAULT_LOCALES_DIR)
    used = _used_ids()
    assert len(used) > 40, "the extractor found too few ids; did the keywords change?"
    for language in LANGUAGES:
        missing = used - translator.ids(language)
        assert not missing, f"{language}: no translation for {sorted(missing)}"


def test_the_three_catalogs_have_the_same_ids_and_no_empty_text() -> None:
    translator = Translator.load(DEFAULT_LOCALES_DIR)
    kk, ru, en = (translator.ids(language) for language in LANGUAGES)
    assert kk == ru == en
    for language in LANGUAGES:
        for message_id in kk:
            assert translator.text(language, message_id).strip()


def test_placeholders_agree_across_languages() -> None:
    import string

    translator = Translator.load(DEFAULT_LOCALES_DIR)

    def fields(language: str, message_id: str) -> set[str]:
        template = translator._catalogs[language][message_id]
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}

    for message_id in translator.ids("en"):
        assert fields("kk", message_id) == fields("ru", message_id) == fields("en", message_id), (
            message_id
        )


def test_kazakh_and_russian_texts_are_not_english() -> None:
    translator = Translator.load(DEFAULT_LOCALES_DIR)
    same = [
        message_id
        for message_id in translator.ids("en")
        if translator.text("kk", message_id) == translator.text("en", message_id)
        and not message_id.startswith("language.")
    ]
    assert same == []
    assert "ә" in translator.text("kk", "rating.ask") or "ғ" in translator.text("kk", "rating.ask")
