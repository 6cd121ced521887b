"""A trained tagger as plain numbers, served by the standard library alone.

The service only ever applies a trained model: normalise, count n-grams, weigh them by TF-IDF,
multiply by the coefficients, squash. Loading the scikit-learn pipeline for that imports
scikit-learn, SciPy, skops and numpy, over 100 MB of resident memory in a service that
otherwise needs about twice that, so training also writes the model's numbers to
``linear.zip`` (a JSON header, the vocabularies as text, the weights as little-endian doubles)
and this module applies them with ``array`` and ``math``. It computes in double precision
where the pipeline's tf-idf values are single precision, so probabilities agree to about
1e-6; ``tests/classifier/test_linear.py`` holds it to that and to the same labels. A gated
model has one more column, the complaint gate, combined with the tags' as
:mod:`classifier.gating` says.
"""

from __future__ import annotations

import json
import math
import sys
import zipfile
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise, repeat
from operator import itemgetter, mul
from pathlib import Path
from typing import Any

from classifier import gating, normalize
from classifier.layout import LINEAR_FILE
from classifier.ngrams import char_wb_columns, char_wb_ngrams, word_ngrams
from classifier.normalize import NEG_PREFIX
from classifier.quotes import message_views

ANALYZERS = {"char_wb": char_wb_ngrams, "word": word_ngrams}
_HEADER = "header.json"


@dataclass(frozen=True)
class Branch:
    """One TF-IDF block of the features: which view, how it is cut, and its weights."""

    analyzer: str  # "char_wb" over a folded view, "word" over the marked view
    ngram_range: tuple[int, int]
    terms: list[str]
    idf: array[float]
    sublinear_tf: bool
    weight: float
    vocabulary: dict[str, int] = field(init=False, repr=False, compare=False)
    _word_columns: dict[str, bytes] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.analyzer not in ANALYZERS:
            raise ValueError(f"unknown analyzer {self.analyzer!r}")
        if len(self.idf) != len(self.terms):
            raise ValueError("one idf weight per term")
        object.__setattr__(self, "vocabulary", {t: i for i, t in enumerate(self.terms)})
        object.__setattr__(self, "_word_columns", {})

    def weighted(self, view: str) -> tuple[list[int], list[float]]:
        """The view's features: its columns in order and, for each, the l2-normalised tf-idf
        value × branch weight."""
        if self.analyzer == "char_wb":
            counts = Counter(self._char_columns(view))
        else:
            lo, hi = self.ngram_range
            counts = Counter(map(self.vocabulary.get, word_ngrams(view, lo, hi), repeat(-1)))
            counts.pop(-1, None)  # the n-grams the vocabulary does not hold
        columns = sorted(counts)
        tf = [float(counts[j]) for j in columns]
        if self.sublinear_tf:
            tf = [math.log(c) + 1.0 for c in tf]
        values = list(map(mul, tf, map(self.idf.__getitem__, columns)))
        norm = math.sqrt(sum(map(mul, values, values)))
        scale = self.weight / norm if norm else 0.0
        return columns, [v * scale for v in values]

    def _char_columns(self, view: str) -> memoryview:
        """The columns of the view's character n-grams, each word's cached as the pipeline's
        ``NgramCounter`` caches them."""
        lo, hi = self.ngram_range
        found = char_wb_columns(view, lo, hi, self.vocabulary.get, self._word_columns)
        return memoryview(found).cast("i")


class LinearModel:
    """Normaliser settings, TF-IDF branches and one-vs-rest logistic coefficients."""

    def __init__(
        self,
        normalizer: Mapping[str, Any],
        branches: Sequence[Branch],
        coef: Sequence[float],
        intercept: Sequence[float],
        gate_weight: float | None = None,
    ) -> None:
        """``coef`` is the (features × columns) matrix flattened row by row; the columns are
        the tags, then, with ``gate_weight``, the complaint gate."""
        self.normalizer = dict(normalizer)
        self.branches = list(branches)
        self.intercept = array("d", intercept)
        self.gate_weight = gate_weight
        self.n_columns = len(self.intercept)
        self.n_tags = self.n_columns - (gate_weight is not None)
        if self.n_tags < 1:
            raise ValueError("a gated model needs a column for the gate and one per tag")
        self._offsets = [0]
        for branch in self.branches:
            self._offsets.append(self._offsets[-1] + len(branch.terms))
        self.coef = array("d", coef)
        if self._offsets[-1] * self.n_columns != len(self.coef):
            raise ValueError("the coefficients do not match the vocabularies")
        # Per branch, per output column, a strided view of that column's coefficients (no
        # copy): a text's score for a column is then one C-level sum of products.
        n, whole = self.n_columns, memoryview(self.coef)
        self._weights = [
            [whole[start * n + k : stop * n : n] for k in range(n)]
            for start, stop in pairwise(self._offsets)
        ]

    def views(self, text: str) -> tuple[str, ...]:
        """The folded character view and the negation-marked word view of a text, and, for a
        model with the quoted-speech branch, the folded view of its quoted spans."""
        n = self.normalizer
        # "quotes" is absent from the files of models saved before the quoted-speech branch
        settings = (n["mode"], n["char_neg"], n["concepts"], n["stem"], n.get("quotes", False))
        return message_views(normalize.shared(), text, *settings)

    def features(self, text: str) -> list[tuple[int, float]]:
        """The text's non-zero features: (global column, weighted value)."""
        pair = self.views(text)
        out: list[tuple[int, float]] = []
        for i, branch in enumerate(self.branches):
            offset = self._offsets[i]
            columns, values = branch.weighted(pair[i])
            out.extend(zip([j + offset for j in columns], values, strict=True))
        return out

    def decision(self, text: str) -> list[float]:
        """The text's linear score for each column (each tag, then a gated model's gate)."""
        scores = list(self.intercept)
        pair = self.views(text)
        for i, (branch, weights) in enumerate(zip(self.branches, self._weights, strict=True)):
            columns, values = branch.weighted(pair[i])
            if not columns:
                continue
            gather = _gatherer(columns)
            for k, column_weights in enumerate(weights):
                scores[k] += sum(map(mul, values, gather(column_weights)))
        return scores

    def proba(self, texts: Sequence[str]) -> list[list[float]]:
        """Per-tag probabilities (the logistic function of the scores, gated if the model has
        a gate), one row per text."""
        rows = [[_logistic(z) for z in self.decision(text)] for text in texts]
        weight = self.gate_weight
        if weight is None:
            return rows
        return [gating.combine(row[:-1], row[-1], weight) for row in rows]

    def explain(
        self, text: str, tags: Sequence[int], top: int
    ) -> dict[int, list[tuple[str, float]]]:
        """For each tag index, the ``top`` words whose features pushed its score up the most.

        Contribution = coefficient × tf-idf value. Character n-grams are credited to the word
        they occur in, in their branch's view (a quoted word's own n-grams to that word too);
        word n-grams are shown as they are. A word is shown as the citizen typed it (case-folded)
        rather than in its folded form where the two can be matched, a negated one as
        ``not <word>``.
        """
        views = self.views(text)
        shown = _surface_forms(text, views[0])
        n = self.n_columns
        found = []
        for i, branch in enumerate(self.branches):
            columns, values = branch.weighted(views[i])
            words = views[i].split() if branch.analyzer == "char_wb" else None
            found.append((branch, self._offsets[i], columns, values, words))
        out: dict[int, list[tuple[str, float]]] = {}
        for k in tags:
            totals: dict[str, float] = defaultdict(float)
            for branch, offset, columns, values, words in found:
                for column, value in zip(columns, values, strict=True):
                    contribution = self.coef[(column + offset) * n + k] * value
                    if contribution == 0.0:
                        continue
                    name = branch.terms[column]
                    if words is None:
                        readable = readable_word(name).split(" ")
                        totals[" ".join(shown.get(w, w) for w in readable)] += contribution
                        continue
                    owners = [w for w in words if name.strip() in f" {w} "] or [name]
                    for w in owners:
                        totals[_shown_word(w, shown)] += contribution / len(owners)
            best = sorted(totals.items(), key=lambda kv: -kv[1])
            out[k] = [(w, round(c, 4)) for w, c in best[:top] if c > 0]
        return out

    def save(self, directory: Path | str) -> Path:
        """Write ``linear.zip``: a JSON header, one text file of terms and the weights as
        little-endian doubles per branch, the coefficients and intercepts."""
        header = {
            "normalizer": self.normalizer,
            "n_tags": self.n_tags,
            "gate_weight": self.gate_weight,
            "branches": [
                {
                    "analyzer": b.analyzer,
                    "ngram_range": list(b.ngram_range),
                    "sublinear_tf": b.sublinear_tf,
                    "weight": b.weight,
                }
                for b in self.branches
            ],
        }
        path = Path(directory) / LINEAR_FILE
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(_HEADER, json.dumps(header))
            for i, branch in enumerate(self.branches):
                if any("\n" in term for term in branch.terms):
                    raise ValueError("a term with a line break cannot be stored one per line")
                archive.writestr(f"terms_{i}.txt", "\n".join(branch.terms))
                archive.writestr(f"idf_{i}.f64", _little_endian(branch.idf))
            archive.writestr("coef.f64", _little_endian(self.coef))
            archive.writestr("intercept.f64", _little_endian(self.intercept))
        return path

    @classmethod
    def load(cls, directory: Path | str) -> LinearModel:
        """Read ``linear.zip`` written by :meth:`save` (plain numbers and text, no code)."""
        with zipfile.ZipFile(Path(directory) / LINEAR_FILE) as archive:
            header = json.loads(archive.read(_HEADER))
            branches = [
                Branch(
                    analyzer=spec["analyzer"],
                    ngram_range=(int(spec["ngram_range"][0]), int(spec["ngram_range"][1])),
                    terms=archive.read(f"terms_{i}.txt").decode("utf-8").split("\n"),
                    idf=_doubles(archive.read(f"idf_{i}.f64")),
                    sublinear_tf=bool(spec["sublinear_tf"]),
                    weight=float(spec["weight"]),
                )
                for i, spec in enumerate(header["branches"])
            ]
            coef = _doubles(archive.read("coef.f64"))
            intercept = _doubles(archive.read("intercept.f64"))
        gate_weight = header.get("gate_weight")  # absent: written before the gate existed
        if len(intercept) != header["n_tags"] + (gate_weight is not None):
            raise ValueError("the intercepts do not match the number of tags")
        return cls(header["normalizer"], branches, coef, intercept, gate_weight)


def _surface_forms(text: str, char_view: str) -> dict[str, str]:
    """Each folded word of the character view (negation's upper case undone) → the word as
    typed; empty if the two do not line up word for word."""
    folded = char_view.split()
    typed = normalize.shared().surface_words(text)
    if len(folded) != len(typed):
        return {}
    return {f.lower(): t for f, t in zip(folded, typed, strict=True)}


def _shown_word(word: str, shown: Mapping[str, str]) -> str:
    """A character-view word as staff read it: as typed where known; negated (the view's upper
    case) as ``not <word>``."""
    if word.isupper():
        lower = word.lower()
        return "not " + shown.get(lower, lower)
    return shown.get(word, word)


def readable_word(name: str) -> str:
    """A word feature as staff read it: a negated word as ``not <word>``, a concept in []."""
    parts = []
    for tok in name.split():
        if tok.startswith(NEG_PREFIX):
            tok = "not " + tok[len(NEG_PREFIX) :]
        if tok.startswith("c:") or tok.startswith("not c:"):
            tok = tok.replace("c:", "[") + "]"
        parts.append(tok)
    return " ".join(parts)


def _gatherer(indices: list[int]) -> Callable[[Sequence[float]], Sequence[float]]:
    """A function picking ``indices`` out of a sequence in one C call (``itemgetter``, which
    returns a bare item, not a tuple, for a single index)."""
    if len(indices) == 1:
        (only,) = indices
        return lambda values: (values[only],)
    return itemgetter(*indices)


def _logistic(z: float) -> float:
    # Written both ways so that neither exp() overflows for a large |z|.
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _little_endian(values: Sequence[float]) -> bytes:
    doubles = array("d", values)
    if sys.byteorder != "little":
        doubles.byteswap()
    return doubles.tobytes()


def _doubles(data: bytes) -> array[float]:
    doubles = array("d")
    doubles.frombytes(data)
    if sys.byteorder != "little":
        doubles.byteswap()
    return doubles
