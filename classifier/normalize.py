"""Text normalisation tuned to how people in Kazakhstan type complaints.

Produces two views of a message:

* the *folded* view (for character n-grams): Kazakh-specific letters folded to their Russian
  look-alikes, Latin-script Kazakh/Russian transliterated to Cyrillic, ``й/щ/э/ё/ь/ъ`` folded,
  so that ``ақша``, ``акша``, ``aqsha`` and ``akwa`` all become ``акша``;
* the *word* view (for word n-grams): the same tokens with negation marks (``NEG_`` prefix on
  tokens in the scope of a negator, including the Kazakh post-positive ``... жоқ`` / ``емес``).

Both views share: Unicode NFKC, case folding, URLs/e-mails/phones/IINs/numbers/city names
replaced by placeholders, emoji mapped to a few classes, 3+ repeated letters squeezed.

The word lists are data (:mod:`classifier.lexicon`). A :class:`Normalizer` owns them with its
per-token caches; :func:`shared` gives the process its one instance, loaded once.
"""

from __future__ import annotations

import functools
import operator
import re
import unicodedata
from collections.abc import Iterable
from itertools import compress, repeat
from typing import Literal

from classifier.caches import cached_values
from classifier.lexicon import Lexicon
from vocabulary import personal_data

TranslitMode = Literal["all", "token", "message"]
CharNegMode = Literal["keep", "drop", "mark", "upper"]
TokenInfo = tuple[str, int, str | None, str]
"""Folded form, negation/stop flags, lexicon concept and word-view form of one token."""

# --- placeholders -----------------------------------------------------------------------------
URL = "_url_"
EMAIL = "_email_"
PHONE = "_phone_"
IIN = "_iin_"
NUM = "_num_"
CITY = "_city_"
NO_CONCEPT = "none"
"""The concept lexicon's section of words that only look like another concept's stem."""

_URL_RE = re.compile(
    r"(?:https?://|www\.)\S+|\b[\w.-]+\.(?:kz|ru|com|org|net|gov\.kz|egov\.kz)(?:/\S*)?\b"
)
# The personal-data patterns are the ones the staff panel masks with.
_EMAIL_RE = personal_data.EMAIL
_PHONE_RE = personal_data.PHONE
_IIN_RE = personal_data.IIN
_NUM_RE = re.compile(r"\d+(?:[.,:/]\d+)*")
_SQUEEZE_RE = re.compile(r"([^\W\d_])\1{2,}")
_TOKEN_RE = re.compile(r"_[a-z]+(?:_[a-z]+)*_|[^\W\d_]+(?:['-][^\W\d_]+)*|[.,!?;:()\"«»—]")
_EMOJI_RE = re.compile(
    "(?:[\U0001f300-\U0001faff\u2600-\u27bf\u2b50\u2b55\u231a\u231b\u23e9-\u23fa\u2934\u2935]"
    "[\ufe0f\u200d\U0001f3fb-\U0001f3ff\u2640\u2642]*)+"
)
_DIGIT_RE = re.compile(r"\d")
# Every alternative starts at a digit or "+"; the lookahead says so to the regex engine, which
# then skips other positions at once instead of trying the phone's lookbehind at each (3× faster).
_NUMERIC_RE = re.compile(
    r"(?=[\d+])"
    f"(?:(?P<phone>{_PHONE_RE.pattern})|(?P<iin>{_IIN_RE.pattern})|(?P<num>{_NUM_RE.pattern}))"
)
_NUMERIC_REPL = {"phone": f" {PHONE} ", "iin": f" {IIN} ", "num": f" {NUM} "}
_DOMAIN_HINT_RE = re.compile(r"\.(?:kz|ru|com|org|net)\b")
_HAS_LATIN_RE = re.compile("[a-z]")
_EMOJI_RANGE_RE = re.compile("[\u2300-\U0010ffff]")
"""Any character at or above the first emoji block (a regex scan, 5× faster than ``max``)."""

# --- letters -------------------------------------------------------------------------------
_LAT = frozenset("abcdefghijklmnopqrstuvwxyzäáğǵñńöóūüúýışç'")

_FULL_FOLD = str.maketrans(
    {
        "ә": "а",
        "ғ": "г",
        "қ": "к",
        "ң": "н",
        "ө": "о",
        "ұ": "у",
        "ү": "у",
        "һ": "х",
        "і": "и",
        "ё": "е",
        "й": "и",
        "щ": "ш",
        "э": "е",
        "ь": None,
        "ъ": None,
    }
)
# Latin homoglyphs typed inside otherwise Cyrillic words ("Aлматы" with a Latin A).
_HOMOGLYPHS = str.maketrans(
    {
        "a": "а",
        "e": "е",
        "o": "о",
        "p": "р",
        "c": "с",
        "x": "х",
        "y": "у",
        "k": "к",
        "m": "м",
        "t": "т",
        "h": "н",
        "b": "в",
        "i": "і",
    }
)

# Latin-script Kazakh (official 2017/2018/2021 alphabets and informal typing) and Russian.
_LAT_PRE = [
    ("g'", "г"),
    ("o'", "о"),
    ("u'", "у"),
    ("a'", "а"),
    ("n'", "н"),
    ("s'", "ш"),
    ("c'", "ч"),
    ("i'", "ы"),
    ("i\u0307", "и"),
]
_LAT_PRE_TABLE = str.maketrans(
    {
        "ä": "а",
        "á": "а",
        "ğ": "г",
        "ǵ": "г",
        "ñ": "н",
        "ń": "н",
        "ö": "о",
        "ó": "о",
        "ū": "у",
        "ü": "у",
        "ú": "у",
        "ý": "у",
        "ı": "ы",
        "ş": "ш",
        "ç": "ч",
        "'": None,
    }
)
_LAT_MULTI = {
    "shch": "ш",
    "sch": "ш",
    "sh": "ш",
    "ch": "ч",
    "zh": "ж",
    "kh": "х",
    "ts": "ц",
    "ya": "я",
    "yu": "ю",
    "yo": "е",
    "ye": "е",
}
_LAT_SINGLE = {
    "a": "а",
    "b": "б",
    "c": "ц",
    "d": "д",
    "e": "е",
    "f": "ф",
    "g": "г",
    "h": "х",
    "i": "и",
    "j": "ж",
    "k": "к",
    "l": "л",
    "m": "м",
    "n": "н",
    "o": "о",
    "p": "п",
    "q": "к",
    "r": "р",
    "s": "с",
    "t": "т",
    "u": "у",
    "v": "в",
    "w": "ш",
    "x": "х",
    "y": "ы",
    "z": "з",
}
_LAT_MAP = {**_LAT_MULTI, **_LAT_SINGLE}
_LAT_RE = re.compile("shch|sch|sh|ch|zh|kh|ts|ya|yu|yo|ye|[a-z]")

# --- negation rules -------------------------------------------------------------------------
NEG_PREFIX = "NEG_"
_POST_NEG_PREFIXES = ("емес",)
# Kazakh verbs negated by the -ма/-ме/-ба/-бе/-па/-пе suffix (бермедім, сұрамады, алмаған,
# төлемейді): like жоқ they negate the words before them ("пара бермедім"). Folded forms.
_KZ_NEG_VERB_RE = re.compile(
    r"\w{2,}(?:ма|ме|ба|бе|па|пе)(?:ды|ди|дым|дим|дык|дик|дыныз|диниз|ган|ген|гам|гем"
    r"|иды|иди|имын|имин|имыз|имиз|итын|итин)$"
)
_BOUNDARY = frozenset('.,!?;:()"«»—')
PRE_SCOPE = 4
SHORT_SCOPE = 2
_SHORT_NEGATORS = frozenset({"не", "ни"})
POST_SCOPE = 3

# token flags
_PRE = 1
_SHORT = 2
_POST = 4
_STOP = 8
_SKIP = 16  # boundary punctuation or placeholder: never negated, never a concept
_NE_OR_NI = _PRE | _SHORT  # the flags of не and ни, exactly

_EN_SUFFIXES = ("ingly", "edly", "ing", "ies", "ed", "es", "ly", "s")
_CACHE_SIZE = 1 << 18
"""Tokens remembered per cache: far above a real vocabulary, a bound against a flood of junk."""


def _numeric_sub(match: re.Match[str]) -> str:
    return _NUMERIC_REPL[match.lastgroup or "num"]


def tokenize(text: str) -> list[str]:
    """Split normalised text into words, placeholders and boundary punctuation."""
    return _TOKEN_RE.findall(text)


def is_latin(token: str) -> bool:
    """True when every character of the token belongs to the (extended) Latin alphabet."""
    return bool(token) and _LATIN_TOKEN_RE.fullmatch(token) is not None


_LATIN_TOKEN_RE = re.compile("[" + re.escape("".join(sorted(_LAT))) + "\\-\u0307]+")
_LATIN_LETTERS = re.escape("".join(sorted(_LAT - {"'"})))
_LATIN_WORD_RE = re.compile(f"(?:^| )[^ _{_LATIN_LETTERS}]*[{_LATIN_LETTERS}]")
"""A Latin letter in a token that is not a placeholder, over the tokens joined by spaces."""


def transliterate(token: str) -> str:
    """Transliterate one Latin-script Kazakh/Russian token to Russian-style Cyrillic.

    Handles informal digraphs (sh, ch, zh, kh, ts, ya, yu, ye), ``w`` typed for ``ш``, the
    apostrophe (``g'``, ``o'``) and acute/breve (``ǵ``, ``ń``, ``ó``, ``ú``, ``ı``) Kazakh
    Latin alphabets, and ``q`` for ``қ``. Kazakh letters come out already folded (``q``→``к``).
    """
    s = token.casefold()
    if "'" in s or "\u0307" in s:
        for src, dst in _LAT_PRE:
            if src in s:
                s = s.replace(src, dst)
    s = s.translate(_LAT_PRE_TABLE)
    return _LAT_RE.sub(lambda m: _LAT_MAP[m.group(0)], s)


def fold(token: str) -> str:
    """Fold one Cyrillic token: Kazakh letters to look-alikes, ё/й/щ/э folded, ь/ъ dropped."""
    return token.translate(_FULL_FOLD)


def english_stem(word: str) -> str:
    """A light English suffix stripper (waited/waiting/waits -> wait) for the word view."""
    for suffix in _EN_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _scope(flags: list[int]) -> list[bool]:
    """Which tokens are negated: up to ``PRE_SCOPE`` after a negator (``SHORT_SCOPE`` after
    не/ни) and ``POST_SCOPE`` before a post-positive one, a stop word or another negator
    ending the scope; punctuation and placeholders are never negated."""
    n = len(flags)
    neg = [False] * n
    # Only the negators' neighbourhoods are walked; finding them takes no Python loop.
    for i in compress(range(n), map(operator.and_, flags, repeat(_PRE | _POST))):
        f = flags[i]
        if f & _PRE:
            limit = SHORT_SCOPE if f & _SHORT else PRE_SCOPE
            for j in range(i + 1, min(n, i + limit + 1)):
                g = flags[j]
                if g & (_STOP | _PRE | _POST):
                    break
                if not g & _SKIP:
                    neg[j] = True
        else:
            for j in range(i - 1, max(-1, i - POST_SCOPE - 1), -1):
                g = flags[j]
                if g & (_STOP | _POST):
                    break
                if not g & (_PRE | _SKIP):
                    neg[j] = True
    return neg


class Normalizer:
    """The normaliser over one :class:`Lexicon`, with its per-token caches.

    A token's folded form, flags and concept depend only on the token (and on whether Latin is
    kept as English), and messages repeat words, so both per-token steps are memoised on the
    instance; the caches are bounded and live as long as the normaliser.
    """

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._city_re = re.compile(
            "^(?:" + "|".join(re.escape(s).replace("\\$", "$") for s in lexicon.city_stems) + ")"
        )
        self._concept_prefix, self._concept_exact, self._concept_pairs = _index_concepts(lexicon)
        self._concept_lengths = tuple(sorted({len(p) for p in self._concept_prefix}, reverse=True))
        self._negators_before_english = lexicon.negators_before_english
        self._kazakh_what_after = lexicon.kazakh_what_after
        self._english_contrast = lexicon.contrast_english
        # Per-instance caches, so they go with the normaliser; one per ``keep_latin`` value,
        # read a message at a time (``classifier.caches``).
        self._info_caches: tuple[dict[str, TokenInfo], dict[str, TokenInfo]] = ({}, {})
        self._english_kinds: dict[str, int] = {}

    def normalize(self, text: str) -> str:
        """The normalised (not folded) text: NFKC, case folding, placeholders, squeezing, emoji."""
        return " ".join(
            _SQUEEZE_RE.sub(r"\1", t) if t[0] != "_" else t for t in tokenize(self._base(text))
        )

    def surface_words(self, text: str) -> list[str]:
        """The text's words as typed (case-folded, squeezed, placeholders for numbers and the
        like), one for each word of ``views``' character view unless negated words are dropped
        from it: the words an explanation can show staff instead of their folded forms."""
        return [t for t in self.normalize(text).split(" ") if t and t not in _BOUNDARY]

    def views(
        self,
        text: str,
        mode: TranslitMode = "message",
        char_neg: CharNegMode = "keep",
        concepts: bool = True,
        stem: int = 0,
    ) -> tuple[str, str]:
        """Return ``(char_view, word_view)`` for one message.

        ``char_view``: folded, transliterated words separated by spaces (for char_wb n-grams);
        negated words are kept, dropped, ``~``-marked or upper-cased (so that their character
        n-grams are features of their own) according to ``char_neg``.
        ``word_view``: folded tokens with ``NEG_`` marks, plus ``?`` and ``!``; with
        ``concepts`` also a ``c:<concept>`` token per lexicon hit; with ``stem`` > 0 words are
        cut to that length.
        """
        tokens = tokenize(self._base(text))
        if not tokens:
            return "", ""
        infos = self._infos(tokens, mode)
        token_flags = [info[1] for info in infos]
        if _NE_OR_NI in token_flags:
            # Kazakh не "what" (не үшін, не деген) looks like the Russian negator.
            shorts = map(operator.and_, token_flags, repeat(_SHORT))
            for i in compress(range(len(tokens) - 1), shorts):
                if infos[i][0] == "не" and infos[i + 1][0].startswith(self._kazakh_what_after):
                    token_flags[i] &= ~_NE_OR_NI
        scope = _scope(token_flags)
        number_words = self.lexicon.number_words
        duration_units = self.lexicon.duration_units
        repeat_units = self.lexicon.repeat_units
        pairs = self._concept_pairs
        chars: list[str] = []
        words: list[str] = []
        prev = ""
        prev_number = False
        for (fol, flags, concept, word), neg in zip(infos, scope, strict=True):
            if flags & _SKIP:
                if fol in _BOUNDARY:
                    if (fol == "?" or fol == "!") and (not words or words[-1] != fol):
                        words.append(fol)
                    prev = ""
                    prev_number = False
                    continue
                words.append(fol)
                chars.append(fol)
                prev = ""
                prev_number = fol == NUM
                continue
            mark = NEG_PREFIX if neg else ""
            words.append(mark + (word[:stem] if stem else word))
            if prev_number and concepts:
                if fol.startswith(duration_units) and (len(fol) > 2 or fol == "аи"):
                    words.append("c:duration")
                elif fol.startswith(repeat_units):
                    words.append("c:repeat")
            prev_number = fol in number_words
            if concepts:
                if concept is not None:
                    words.append(mark + "c:" + concept)
                if prev and prev in pairs:
                    concept2 = self.pair_concept(prev, fol)
                    if concept2 is not None and concept2 != concept:
                        words.append("c:" + concept2)
            prev = fol
            if not neg or char_neg == "keep":
                chars.append(fol)
            elif char_neg == "upper":
                chars.append(fol.upper())
            elif char_neg == "mark":
                chars.append("~" + fol)
        return " ".join(chars), " ".join(words)

    def looks_english(self, tokens: Iterable[str]) -> bool:
        """Heuristic: the Latin tokens of the message are mostly English words."""
        kinds = cached_values(
            self._english_kinds, list(tokens), self._classify_english, _CACHE_SIZE
        )
        # A Latin token's kind is 1, plus 2 for a common English word, plus 4 for a function
        # word: counting the kinds counts all three.
        n_latin = len(kinds) - kinds.count(0)
        known = kinds.count(3) + kinds.count(7)
        hits = kinds.count(5) + kinds.count(7)
        if not n_latin:
            return False
        return (
            (hits >= 2 and known >= 0.3 * n_latin)
            or (known >= 2 and known >= 0.5 * n_latin)
            or (n_latin == 1 and known == 1)
        )

    def concepts_of(self, token: str) -> str | None:
        """The lexicon concept a folded token belongs to, if any (exact word, else longest
        stem)."""
        hit = self._concept_exact.get(token)
        if hit is not None:
            return hit or None
        n = len(token)
        for length in self._concept_lengths:
            if n >= length:
                hit = self._concept_prefix.get(token[:length])
                if hit is not None:
                    return hit or None  # "" is a stem of the no-concept section
        return None

    def pair_concept(self, first: str, second: str) -> str | None:
        """The concept of a two-word stem (``first`` exact, ``second`` by prefix), if any."""
        for prefix, concept in self._concept_pairs.get(first, ()):
            if second.startswith(prefix):
                return concept or None
        return None

    def _base(self, text: str) -> str:
        """NFKC + case folding + placeholders + emoji classes (shared by both views)."""
        s = unicodedata.normalize("NFKC", text).casefold()
        if "'" in s or "’" in s or "‘" in s or "`" in s or "ʼ" in s:
            s = s.replace("’", "'").replace("‘", "'").replace("`", "'").replace("ʼ", "'")
        if "http" in s or "www" in s or ("." in s and _DOMAIN_HINT_RE.search(s)):
            s = _URL_RE.sub(f" {URL} ", s)
        if "@" in s:
            s = _EMAIL_RE.sub(f" {EMAIL} ", s)
        if _DIGIT_RE.search(s):
            s = _NUMERIC_RE.sub(_numeric_sub, s)
        if _EMOJI_RANGE_RE.search(s):
            s = _EMOJI_RE.sub(self._emoji_sub, s)
        return s

    def _emoji_sub(self, match: re.Match[str]) -> str:
        classes: list[str] = []
        known = self.lexicon.emoji_classes
        for ch in match.group(0):
            cls = known.get(ch)
            if (
                cls is None
                and ord(ch) >= 0x2300
                and ch not in "\ufe0f\u200d\u2640\u2642"
                and not 0x1F3FB <= ord(ch) <= 0x1F3FF
            ):
                cls = "_emo_other_"
            if cls and (not classes or classes[-1] != cls):
                classes.append(cls)
        return " " + " ".join(classes) + " "

    def _infos(self, tokens: list[str], mode: TranslitMode) -> list[TokenInfo]:
        """Each token's :data:`TokenInfo`."""
        if mode == "token":
            english = self.lexicon.english_words
            return [self._cached_infos([t], t in english)[0] for t in tokens]
        # Most messages have no Latin word at all, and one regex scan says so.
        keep_latin = (
            mode == "message"
            and _LATIN_WORD_RE.search(" ".join(tokens)) is not None
            and self.looks_english(tokens)
        )
        return self._cached_infos(tokens, keep_latin)

    def _cached_infos(self, tokens: list[str], keep_latin: bool) -> list[TokenInfo]:
        """The tokens' :data:`TokenInfo`, from the cache for ``keep_latin`` or computed into it."""
        return cached_values(
            self._info_caches[keep_latin],
            tokens,
            functools.partial(self._token_info, keep_latin=keep_latin),
            _CACHE_SIZE,
        )

    def _classify_english(self, token: str) -> int:
        """Bits: 1 a Latin word, 2 a common English word, 4 an English function word."""
        if token[0] == "_" or not is_latin(token):
            return 0
        lexicon = self.lexicon
        return (
            1
            | (2 if token in lexicon.english_words else 0)
            | (4 if token in lexicon.english_function_words else 0)
        )

    def _token_info(self, token: str, keep_latin: bool) -> TokenInfo:
        """Folded form, negation/stop flags, lexicon concept and word-view form of one token.

        ``keep_latin``: leave a Latin token as it is (English, light-stemmed in the word view)
        instead of transliterating it.
        """
        if token[0] == "_":
            return token, _SKIP | (_STOP if token.startswith("_emo") else 0), None, token
        if token in _BOUNDARY:
            return token, _SKIP | _STOP, None, token
        if len(token) > 2:
            token = _SQUEEZE_RE.sub(r"\1", token)
        if is_latin(token):
            folded = token.replace("'", "") if keep_latin else fold(transliterate(token))
        else:
            if _HAS_LATIN_RE.search(token):
                token = token.translate(_HOMOGLYPHS)
            folded = fold(token)
        folded = folded or token
        if self._city_re.match(folded):
            return CITY, _SKIP, None, CITY
        lexicon = self.lexicon
        flags = 0
        english_negators = self._negators_before_english
        if (
            folded in lexicon.negators_before
            or token in english_negators
            or (folded in english_negators)
        ):
            flags |= _PRE | (_SHORT if folded in _SHORT_NEGATORS else 0)
        elif (
            folded in lexicon.negators_after
            or folded.startswith(_POST_NEG_PREFIXES)
            or (not keep_latin and _KZ_NEG_VERB_RE.match(folded))
        ):
            flags |= _POST
        if folded in lexicon.contrast or token in self._english_contrast:
            flags |= _STOP
        word = english_stem(folded) if keep_latin and is_latin(folded) else folded
        return folded, flags, self.concepts_of(folded), word


def _index_concepts(
    lexicon: Lexicon,
) -> tuple[dict[str, str], dict[str, str], dict[str, tuple[tuple[str, str], ...]]]:
    """Index the concept lexicon: prefix stems, exact words and two-word stems (folded)."""
    prefixes: dict[str, str] = {}
    exact: dict[str, str] = {}
    pairs: dict[str, list[tuple[str, str]]] = {}
    for name, stems in lexicon.concepts:
        # The no-concept section's stems index as "": the longest stem still wins, so a word
        # that only looks like a concept's stem (a Kazakh word folded onto a Russian one) gets
        # none.
        concept = "" if name == NO_CONCEPT else name
        for raw in stems:
            is_exact = raw.endswith("=")
            stem = raw.rstrip("=").casefold().replace("'", "")
            key = stem if is_latin(stem.replace("-", "")) else fold(stem)
            (exact if is_exact else prefixes).setdefault(key, concept)
            if "-" in key:
                first, second = key.split("-", 1)
                if first and second and "-" not in second:
                    pairs.setdefault(first, []).append((second, concept))
    return prefixes, exact, {k: tuple(v) for k, v in pairs.items()}


@functools.cache
def shared() -> Normalizer:
    """The process's normaliser over the shipped word lists (read once, on first use)."""
    return Normalizer(Lexicon.load())


def normalize(text: str) -> str:
    """The normalised (not folded) text (see :meth:`Normalizer.normalize`)."""
    return shared().normalize(text)


def looks_english(tokens: Iterable[str]) -> bool:
    """Heuristic: the Latin tokens of the message are mostly English words."""
    return shared().looks_english(tokens)


def views(
    text: str,
    mode: TranslitMode = "message",
    char_neg: CharNegMode = "keep",
    concepts: bool = True,
    stem: int = 0,
) -> tuple[str, str]:
    """``(char_view, word_view)`` for one message (see :meth:`Normalizer.views`)."""
    return shared().views(text, mode, char_neg, concepts, stem)
