"""The n-gram analyzers of the TF-IDF features, shared by training and the numpy-only tagger.

Kept apart from ``classifier.pipeline`` so that serving a model does not import scikit-learn.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable

from classifier.caches import cached_values

WORD_CACHE_LIMIT = 200_000
"""Words a column cache holds before it starts afresh: a bound against a flood of junk."""


def char_wb_ngrams(doc: str, lo: int, hi: int) -> list[str]:
    """Character n-grams inside space-padded words; identical to scikit-learn's ``char_wb``."""
    out: list[str] = []
    extend = out.extend
    for w in doc.split():
        w = f" {w} "
        length = len(w)
        for n in range(lo, hi + 1):
            if length <= n:
                out.append(w)
                break
            extend([w[i : i + n] for i in range(length - n + 1)])
    return out


def word_ngrams(doc: str, lo: int, hi: int) -> list[str]:
    """Whitespace-token n-grams; identical to scikit-learn's word analyzer with ``\\S+`` tokens."""
    tokens = doc.split()
    out: list[str] = list(tokens) if lo == 1 else []
    for n in range(max(lo, 2), hi + 1):
        # The shifted token lists zipped: each n-gram is joined by a C call (30 % faster).
        out.extend(map(" ".join, zip(*[tokens[i:] for i in range(n)], strict=False)))
    return out


def char_wb_columns(
    doc: str,
    lo: int,
    hi: int,
    column_of: Callable[[str], int | None],
    cache: dict[str, bytes],
) -> bytes:
    """The columns ``column_of`` gives the char_wb n-grams of ``doc`` (unknown ones dropped),
    as the bytes of an ``array("i")`` (native ``int32``, for ``numpy.frombuffer``).

    char_wb n-grams never cross words and messages repeat words, so each word's columns are
    kept in ``cache``, which is emptied when it reaches ``WORD_CACHE_LIMIT`` words. Bytes,
    because a message's known words then take three C calls (split, look up, join).
    """

    def columns_of(word: str) -> bytes:
        grams = char_wb_ngrams(word, lo, hi)
        return array("i", [j for j in map(column_of, grams) if j is not None]).tobytes()

    words: list[bytes] = cached_values(cache, doc.split(), columns_of, WORD_CACHE_LIMIT)
    return b"".join(words)
