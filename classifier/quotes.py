"""What the citizen was told: the quoted spans of a message, as a view of their own.

Citizens quote what staff said — «за скорость», 'не моя проблема', "only online", «келесі!» —
and the quotation marks set those words apart from the citizen's own story. The pipeline reads
the quoted spans through an n-gram branch of their own (``classifier.pipeline``), so a word
weighs differently when an official said it ("отблагодарите" in quotes is a hint) than when the
citizen did (their own thanks). The model card (``classifier/MODEL_CARD.md``, "What the citizen
was told") has the measurements behind it.
"""

from __future__ import annotations

import re

from classifier.normalize import CharNegMode, Normalizer, TranslitMode

QUOTED = re.compile(
    r"[«\"“„]([^«»\"“”„]{2,200})[»\"”“]"
    # single quotes only at word edges, so that the apostrophes of "don't" or "o'z" open nothing
    r"|(?<!\w)['‘]([^'‘’]{2,200})['’](?!\w)"
)
"""A span in guillemets, double quotes or single quotes, 2 to 200 characters long."""


def quoted_spans(text: str) -> list[str]:
    """The quoted spans of ``text``, in order, without their quotation marks."""
    return [double or single for double, single in QUOTED.findall(text)]


def quoted_view(
    normalizer: Normalizer,
    text: str,
    mode: TranslitMode = "message",
    char_neg: CharNegMode = "keep",
    concepts: bool = True,
    stem: int = 0,
) -> str:
    """The folded character view (``Normalizer.views``) of each quoted span, joined by spaces;
    empty when nothing is quoted."""
    settings = (mode, char_neg, concepts, stem)
    views = (normalizer.views(span, *settings)[0] for span in quoted_spans(text))
    return " ".join(view for view in views if view)


def message_views(
    normalizer: Normalizer,
    text: str,
    mode: TranslitMode,
    char_neg: CharNegMode,
    concepts: bool,
    stem: int,
    quotes: bool,
) -> tuple[str, ...]:
    """The views a model reads: ``Normalizer.views``' character and word views and, with
    ``quotes``, the quoted view as well."""
    pair = normalizer.views(text, mode, char_neg, concepts, stem)
    if not quotes:
        return pair
    return (*pair, quoted_view(normalizer, text, mode, char_neg, concepts, stem))
