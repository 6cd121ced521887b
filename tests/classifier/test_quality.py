"""The product's promises, checked on the SHIPPED artifact (classifier/artifacts/current).

These tests fail if the shipped model regresses: evaluation-split quality targets,
negation, bribe euphemisms, and robustness to city names, numbers and emoji.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from classifier import lexicon
from classifier.evaluate import evaluate_model
from classifier.normalize import views
from classifier.pipeline import build_pipeline
from classifier.tagger import Tagger
from classifier.tags import LANGS, TAGS, LabelledText


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger.load()


@pytest.fixture(scope="module")
def report(tagger: Tagger, split) -> dict:
    return evaluate_model(tagger.model, tagger.thresholds, split[1])


# Floors, not the product targets (those are in BENCHMARKS.md): each sits just under what the
# shipped model measures on the evaluation split, so a retrained model that scores worse fails.
MACRO_F1_TARGET = 0.86
LANGUAGE_FLOORS = {"kk": 0.86, "ru": 0.86, "en": 0.83, "kk-ru": 0.89}
CORRUPTION_RECALL_TARGET = 0.93
CORRUPTION_PRECISION_TARGET = 0.70
DIGITAL_SERVICE_F1_FLOOR = 0.89
UNTAGGED_KEPT_FLOOR = 0.90
"""Share of the split's messages with no tag that the model also leaves untagged."""


def test_eval_macro_f1_target(report: dict) -> None:
    assert report["n"] >= 500
    assert report["macro_f1"] >= MACRO_F1_TARGET, report["macro_f1"]


@pytest.mark.parametrize("lang", LANGS)
def test_eval_macro_f1_per_language(report: dict, lang: str) -> None:
    assert report["per_language"][lang]["macro_f1"] >= LANGUAGE_FLOORS[lang], report[
        "per_language"
    ][lang]


def test_eval_corruption_recall(report: dict) -> None:
    corruption = report["per_tag"]["corruption"]
    assert corruption["recall"] >= CORRUPTION_RECALL_TARGET, corruption


def test_eval_corruption_precision(report: dict) -> None:
    corruption = report["per_tag"]["corruption"]
    assert corruption["precision"] >= CORRUPTION_PRECISION_TARGET, corruption


def test_messages_with_no_tag_mostly_stay_untagged(tagger: Tagger, split) -> None:
    untagged = [m for m in split[1] if not m.labels]
    assert len(untagged) >= 100
    kept = sum(not p.labels for p in tagger.predict([m.text for m in untagged]))
    assert kept / len(untagged) >= UNTAGGED_KEPT_FLOOR, (kept, len(untagged))


def test_shipped_metadata_matches_evaluation(tagger: Tagger, report: dict) -> None:
    assert tagger.metadata["eval_scores"]["macro_f1"] == report["macro_f1"]
    assert tagger.metadata["n_eval"] == report["n"]


def test_the_shipped_model_was_trained_with_the_word_lists_in_the_tree(tagger: Tagger) -> None:
    """The normaliser reads ``classifier/wordlists`` at run time: edited lists without a
    retrained model would score the shipped coefficients on other features."""
    assert tagger.metadata["lexicon"] == lexicon.digest()


def test_the_shipped_vocabularies_are_what_the_training_split_gives(tagger: Tagger, split) -> None:
    """The features are fitted again from the training split with the shipped parameters: the
    same n-grams must come out, on whatever machine runs this (an unstable sort at the
    vocabulary cut once kept 1,451 other char n-grams on another CPU)."""
    params = {
        key: tuple(value) if isinstance(value, list) else value
        for key, value in tagger.metadata["params"].items()
        if key.startswith(("normalize__", "features__"))
    }
    assert params["features__char__counts__max_features"]  # the cut is what this is about
    fresh = build_pipeline(params)[:-1]
    fresh.fit([m.text for m in split[0]])
    names = [name for name, _ in tagger.model.named_steps["features"].transformer_list]
    assert names == ["char", "word", "quoted"]
    for name in names:
        shipped = _counter(tagger.model[:-1], name)
        refitted = _counter(fresh, name)
        assert refitted is not shipped
        assert shipped.terms_.tolist() == refitted.terms_.tolist(), name


def _counter(features: Any, branch: str) -> Any:
    return dict(features.named_steps["features"].transformer_list)[branch].named_steps["counts"]


@pytest.mark.parametrize(
    "text",
    [
        "никто денег не просил, всё быстро",
        "никто денег не просил, все быстро сделали, спасибо",
        "пара сұраған жоқ",
        "пара сұраған жоқ, бірақ 3 сағат кезекте тұрдық",
        "ешкім ақша сұраған жоқ",
        "aqsha suragan joq, tez berdi",
        "nobody asked me for money",
        "nobody asked me for money, everything was quick",
        "Денег не требовали, взяток не просили, всё по закону",
    ],
)
def test_negated_bribes_are_not_corruption(tagger: Tagger, text: str) -> None:
    assert "corruption" not in tagger.predict_one(text).labels


@pytest.mark.parametrize(
    "text",
    [
        "намекнули что надо отблагодарить",
        "шай-пұл беру керек деді",
        "сказали конверт и решим вопрос",
        "намекнули что если отблагодарить то сделают завтра",
        "операторга сыйлық әкелсең тез шешеміз деді",
        "he said it could be faster if I 'thank him' with 10 000",
    ],
)
def test_bribe_euphemisms_are_corruption(tagger: Tagger, text: str) -> None:
    assert "corruption" in tagger.predict_one(text).labels


def test_denial_keeps_the_other_complaint(tagger: Tagger) -> None:
    pred = tagger.predict_one("пара сұраған жоқ, бірақ 3 сағат кезекте тұрдық")
    assert pred.labels == ["delay"]


_CITIES = {
    "Алматы": "Астана",
    "Астана": "Шымкент",
    "Шымкент": "Караганда",
    "Караганда": "Алматы",
    "Қарағанды": "Ақтөбе",
    "Ақтөбе": "Қарағанды",
    "Актобе": "Павлодар",
    "Павлодар": "Актобе",
    "Almaty": "Astana",
    "Astana": "Shymkent",
    "Shymkent": "Almaty",
    "Taraz": "Aktau",
    "Костанай": "Атырау",
    "Атырау": "Костанай",
    "Тараз": "Кокшетау",
    "Кокшетау": "Тараз",
}
_CITY_RE = re.compile("|".join(sorted(_CITIES, key=len, reverse=True)))
_EMOJI = {
    "😡": "🤬",
    "🤬": "😡",
    "😭": "😢",
    "😢": "😭",
    "🙏": "👍",
    "👍": "🙏",
    "🤦": "🙄",
    "🙄": "🤦",
    "🤷": "🤦",
    "😂": "🤣",  # each swap stays within one of the normaliser's emoji classes
    "👏": "👍",
    "😤": "😠",
}


def _perturb(text: str) -> str:
    text = _CITY_RE.sub(lambda m: _CITIES[m.group(0)], text)
    text = re.sub(r"\d", lambda m: str((int(m.group(0)) + 3) % 10), text)
    return "".join(_EMOJI.get(ch, ch) for ch in text)


def test_predictions_do_not_flip_on_city_number_or_emoji(tagger: Tagger, split) -> None:
    # an emoji is only swapped for one of its own class: the swap changes no feature
    assert all(views(a)[1] == views(b)[1] for a, b in _EMOJI.items())
    eligible: list[LabelledText] = [m for m in split[1] if _perturb(m.text) != m.text]
    sample = eligible[:: max(1, len(eligible) // 30)][:30]
    assert len(sample) == 30
    assert any(_CITY_RE.search(m.text) for m in sample)
    assert any(re.search(r"\d", m.text) for m in sample)
    before = tagger.predict([m.text for m in sample])
    after = tagger.predict([_perturb(m.text) for m in sample])
    flips = [
        (m.id, b.labels, a.labels)
        for m, b, a in zip(sample, before, after, strict=True)
        if b.labels != a.labels
    ]
    assert not flips


def test_eval_digital_service(report: dict) -> None:
    digital = report["per_tag"]["digital_service"]
    assert digital["support"] >= 60
    assert digital["f1"] >= DIGITAL_SERVICE_F1_FLOOR, digital


@pytest.mark.parametrize(
    "text",
    [
        "eGov қосымшасы SMS код жібермейді, жарты күн әуре болдым",
        "egov qosymshasy ashylmaidy, 'qate' dep turady, eki kun boldy",
        "биометрия не проходит, пишет лицо не распознано, пятый раз пробую",
        "the app keeps crashing when I try to sign with my EDS",
        "записалась онлайн на 10:00, в ЦОНе говорят вашей записи нет, берите талон",
    ],
)
def test_failed_online_attempts_are_digital_service(tagger: Tagger, text: str) -> None:
    assert "digital_service" in tagger.predict_one(text).labels


@pytest.mark.parametrize(
    "text",
    [
        "ЦОН-да жүйе істемейді, ертең келіңіз деді",
        "в ЦОНе упала база, попросили прийти завтра",
    ],
)
def test_the_centres_own_system_down_is_delay_not_digital_service(
    tagger: Tagger, text: str
) -> None:
    labels = tagger.predict_one(text).labels
    assert "delay" in labels and "digital_service" not in labels, labels


@pytest.mark.parametrize(
    "text",
    [
        "eGov-пен мекенжай анықтамасын үйден алдым, өте ыңғайлы екен",
        "спасибо eGov, справку о несудимости скачал за минуту, в ЦОН ехать не пришлось",
        "egov is great, got my certificate from my couch",
        "ЭЦП-ны телефонға қалай орнатамын?",
        "how do I renew my EDS in the app?",
    ],
)
def test_egov_praise_and_questions_get_no_tag(tagger: Tagger, text: str) -> None:
    assert tagger.predict_one(text).labels == []


@pytest.mark.parametrize(
    "text",
    [
        "охранник орал на всех у входа, денег никто не просил, просто хамло",
        "күзетші анамды итеріп жіберді, ақша сұраған жоқ, бірақ дөрекі",
        "the guard shouted at everyone at the entrance. nobody asked for money, just rude",
    ],
)
def test_a_rude_guard_who_asks_nothing_is_rudeness_not_corruption(
    tagger: Tagger, text: str
) -> None:
    labels = tagger.predict_one(text).labels
    assert "rudeness" in labels and "corruption" not in labels, labels


@pytest.mark.parametrize(
    "text",
    [
        "маманға сыйлық ұсындым, «болмайды» деп алмады",
        "offered her a chocolate bar as thanks, she refused, said it's her job",
    ],
)
def test_a_refused_gift_is_not_corruption(tagger: Tagger, text: str) -> None:
    assert "corruption" not in tagger.predict_one(text).labels


def test_scores_cover_every_tag(tagger: Tagger) -> None:
    pred = tagger.predict_one("оператор накричала на меня при всех, паспорт швырнула")
    assert set(pred.scores) == set(TAGS)
    assert pred.labels == ["rudeness"]
