"""Normalisation: folding, transliteration, placeholders, squeezing, emoji, negation marks."""

from __future__ import annotations

import pytest

from classifier import normalize as normalize_module
from classifier.lexicon import Lexicon
from classifier.normalize import (
    CITY,
    IIN,
    NUM,
    PHONE,
    URL,
    fold,
    looks_english,
    normalize,
    tokenize,
    transliterate,
    views,
)


def test_kazakh_letters_fold_to_look_alikes() -> None:
    assert fold("әғқңөұүһі") == "агкноууxи".replace("x", "х")
    assert fold("ақша") == "акша"
    assert fold("сұраған") == "сураган"
    assert fold("жоқ") == "жок"
    # plain-keyboard Kazakh and proper Kazakh meet in the folded view
    assert views("ақша сұраған")[0] == views("акша сураган")[0]


@pytest.mark.parametrize(
    ("latin", "cyrillic"),
    [
        ("aqsha", "акша"),
        ("akwa", "акша"),  # "w" typed for ш
        ("shai", "шаи"),
        ("zheke", "жеке"),
        ("kezek", "кезек"),
        ("sag'at", "сагат"),  # 2017 apostrophe alphabet
        ("ǵ", "г"),
        ("ńó", "но"),
        ("ú", "у"),
        ("qyzmet", "кызмет"),
        ("ı", "ы"),
        ("chto", "что"),
        ("yakshi", "якши"),
        ("tsentr", "центр"),
    ],
)
def test_latin_transliteration(latin: str, cyrillic: str) -> None:
    assert fold(transliterate(latin)) == cyrillic


def test_latin_kazakh_meets_cyrillic_kazakh() -> None:
    assert views("aqsha suragan joq")[0] == views("ақша сұраған жоқ")[0]
    assert views("kezek 2 sagat")[0] == views("кезек 2 сағат")[0]


def test_english_is_kept_intact() -> None:
    assert looks_english(tokenize("nobody asked me for money"))
    assert not looks_english(tokenize("operator qyz magan aiqailap soiledi"))
    assert views("the operator was rude")[0].split() == ["the", "operator", "was", "rude"]
    # ...while Latin-script Kazakh in the same position is transliterated
    assert views("operator qyz")[0].split() == ["оператор", "кыз"]


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("waited 3 hours", "waited"),  # a number placeholder, spelt in Latin letters
        ("see https://egov.kz, nobody helped", "nobody"),  # a URL placeholder
        ("😡 the operator was rude", "operator"),  # an emoji class placeholder
        ("_url_the operator was rude", "operator"),  # a word glued to a placeholder
    ],
)
def test_english_is_recognised_beside_placeholders(text: str, english: str) -> None:
    # Placeholders are spelt in Latin letters: they neither hide a message's English words
    # nor make a Cyrillic message English.
    assert english in views(text)[0].split()
    assert "кезек" in views("кезек 3 сағат, https://egov.kz 😡")[0].split()


def test_placeholders() -> None:
    text = normalize(
        "ИИН 900101300123, звоните +7 (701) 123-45-67 или 87011234567, "
        "https://egov.kz/services и 15 000 тенге в 9:30"
    )
    assert IIN in text
    assert text.count(PHONE) == 2
    assert URL in text
    assert NUM in text
    assert not any(ch.isdigit() for ch in text)


def test_iin_is_not_a_phone_and_plain_numbers_are_numbers() -> None:
    assert IIN in normalize("900101300123")
    assert PHONE not in normalize("900101300123")
    assert normalize("3 сағат") == f"{NUM} сағат"


def test_city_names_become_placeholders() -> None:
    for text in ("в Алматы", "Астанада", "Шымкенте", "Almaty PSC", "Қарағанды"):
        assert CITY in views(text)[0], text


def test_repeated_letters_are_squeezed() -> None:
    assert normalize("дооооолго") == "долго"
    assert views("ждалааа")[0] == views("ждала")[0]
    assert normalize("касса") == "касса"  # real double letters stay


def test_case_folding_and_nfkc() -> None:
    assert normalize("ЦОН") == "цон"
    assert normalize("ｆｕｌｌ") == "full"  # NFKC full-width


def test_emoji_mapped_to_classes() -> None:
    assert views("😡")[1] == views("🤬")[1] == "_emo_angry_"
    assert views("🙏")[1] == "_emo_happy_"
    assert "_emo_" in views("очередь 😭")[1]


def _marked(text: str) -> list[str]:
    """The word view's folded words with their ``NEG_`` marks (no concepts, no punctuation)."""
    return [w for w in views(text, concepts=False)[1].split() if w not in ("?", "!")]


def test_russian_negation_marks() -> None:
    marked = _marked("никто денег не просил, всё быстро")
    assert "NEG_денег" in marked
    assert "NEG_просил" in marked
    assert "быстро" in marked  # the comma ends the scope
    assert "NEG_просил" not in _marked("денег просил")


def test_kazakh_post_positive_negation() -> None:
    marked = _marked("пара сұраған жоқ, бірақ 3 сағат кезекте тұрдық")
    assert marked[:3] == ["NEG_пара", "NEG_сураган", "жок"]
    assert "кезекте" in marked and "NEG_кезекте" not in marked
    assert _marked("aqsha suragan joq")[:2] == ["NEG_акша", "NEG_сураган"]
    assert _marked("толық емес")[0] == "NEG_толык"


def test_kazakh_what_is_no_negator() -> None:
    # Kazakh не "what" (не деген масқара, не үшін) negates nothing; the Russian не still does.
    assert _marked("не деген масқара, база істемейді")[:3] == ["не", "деген", "маскара"]
    assert _marked("не үшін кезек көп")[1:3] == ["ушин", "кезек"]
    assert _marked("мне не нужно это")[2] == "NEG_нужно"
    assert _marked("не деньги нужны")[1] == "NEG_денги"  # folded: ь dropped


def test_english_negation_marks() -> None:
    assert _marked("nobody asked me for money")[1:] == [
        "NEG_ask",  # the word view keeps light-stemmed English
        "NEG_me",
        "NEG_for",
        "NEG_money",
    ]
    assert "NEG_look" in _marked("she didn't look at me")


def test_negation_reaches_concept_tokens() -> None:
    _, words = views("никто денег не просил")
    assert "NEG_c:money" in words
    _, words = views("попросили денег")
    assert "c:money" in words and "NEG_c:money" not in words


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("жиырма төрт сағат ашық", "c:bribe"),  # төрт "four" folds onto торт "cake"
        ("tort kün kuttim", "c:bribe"),
        ("ждал пара часов", "c:bribe"),  # Russian пара "a couple of"
        ("B категориясына емтихан", "c:error"),  # a licence category, not қате "error"
        ("удостоверение личности", "c:to_self"),
        ("бала күтіміне жәрдемақы", "c:wait"),  # childcare, not күт "wait"
        ("egovty kunde paidalanamyn", "c:money"),
        ("қызмет көрсету деңгейі төмен", "c:money"),  # the level of service, not деньги
        ("жылы қарсы алды", "c:data_field"),  # "warmly", not the year of birth
    ],
)
def test_words_that_only_look_like_a_concept_get_none(text: str, concept: str) -> None:
    assert concept not in views(text)[1].split()


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("апайға торт әкелдім", None),  # the bare word is ambiguous: no concept either way
        ("принесла торта кусок", "c:bribe"),
        ("тортты әкелдік", "c:bribe"),
        ("пара сұрады", "c:bribe"),
        ("para berdim", "c:bribe"),
        ("қате жазылған", "c:error"),
        ("лично в руки", "c:to_self"),
        ("деньги вернули", "c:money"),
        ("екі сағат күттім", "c:wait"),
        ("туған жылы қате", "c:data_field"),
    ],
)
def test_the_concepts_still_reach_their_own_words(text: str, concept: str | None) -> None:
    words = views(text)[1].split()
    if concept is None:
        assert not any(w.startswith("c:") for w in words)
    else:
        assert concept in words


def test_empty_text() -> None:
    assert views("") == ("", "")
    assert views("   ") == ("", "")
    assert views("!!!") == ("", "!")


def test_the_token_caches_change_no_view_and_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(normalize_module, "_CACHE_SIZE", 8)
    bounded = normalize_module.Normalizer(Lexicon.load())
    texts = [
        "Оператор грубил, справку не выдали, ждал 3 часа",
        "the operator was rude and nobody helped me",
        "kezek 2 sagat, eshkim komektespedi",
        "ЭЦҚ жұмыс істемейді, eGov қосымшасы ашылмайды 😡",
    ]
    for text in texts * 2:  # the second round reads what the first one left in the caches
        assert bounded.views(text, char_neg="upper") == views(text, char_neg="upper")
        assert all(len(cache) <= 8 for cache in bounded._info_caches)
