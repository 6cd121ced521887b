"""What the citizen was told: quoted spans, their view, and how explanations credit them."""

from __future__ import annotations

import pytest

from classifier.normalize import shared, views
from classifier.quotes import quoted_spans, quoted_view
from classifier.serving import ServingTagger


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        ("сказала «не моя проблема» и отвернулась", ["не моя проблема"]),
        ('he said "only online" and "next!"', ["only online", "next!"]),
        ("“за скорость” добавьте", ["за скорость"]),
        ("„ертең келіңіз“ деді", ["ертең келіңіз"]),
        ("qyz 'kelesi!' dep aiqailady", ["kelesi!"]),
        ("she said ‘not my problem’", ["not my problem"]),
        # apostrophes inside words open no quotation
        ("I don't know, it's their rule", []),
        ("o'z qolynan berdi, ol'ga", []),
        ("no quotes at all", []),
        ("«»", []),  # an empty pair quotes nothing
    ],
)
def test_quoted_spans(text: str, spans: list[str]) -> None:
    assert quoted_spans(text) == spans


def test_the_quoted_view_is_the_folded_view_of_each_span() -> None:
    text = "Қызметкер «ақша бересіз бе?» деді, мен 'жоқ' дедім"
    assert quoted_view(shared(), text) == " ".join([views("ақша бересіз бе?")[0], views("жоқ")[0]])
    assert quoted_view(shared(), "очередь три часа") == ""


def test_an_explanation_credits_quoted_words_not_their_fragments() -> None:
    model = ServingTagger.load().linear
    assert model.normalizer.get("quotes"), "the shipped model reads quoted speech"
    text = "инспектор сказал «за скорость доплатите пять тысяч» и подмигнул"
    char, _, quoted = model.views(text)
    quoted_branch = model.branches[2]
    columns, _ = quoted_branch.weighted(quoted)
    words = set(char.split()) | set(quoted.split())
    # an n-gram as it would read if it were named itself: "скор", not the word "скорост"
    fragments = {quoted_branch.terms[j].strip() for j in columns} - words
    assert fragments  # the quoted words' n-grams are features of the model
    why = model.explain(text, range(model.n_tags), top=50)
    named = {name for pairs in why.values() for name, _ in pairs}
    assert named and not named & fragments, named & fragments
    # the quoted words themselves are credited, shown as typed ("скорость", not "скорост")
    assert {"скорость", "доплатите"} <= named
    assert not {"скорост", "пят"} & named
