"""The n-gram analyzers of the TF-IDF features, shared by training and the numpy-only tagger.

Kept apart from ``classifier.pipeline`` so that serving a model does not import scikit-learn.
"""

from __future__ import annotations


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
        out.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return out
