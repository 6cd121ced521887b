"""The normaliser's word lists, read from the text files in ``classifier/wordlists``.

Each file holds whitespace-separated words; lines starting with ``#`` say what the list is for.
``concepts.txt`` groups stems under ``[concept]`` headings; ``emoji.txt`` has one class per line
(its placeholder, then its emoji).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

WORDLISTS_DIR = Path(__file__).with_name("wordlists")


def content_lines(path: Path) -> list[str]:
    """A list file's lines that the readers use, stripped: comments and blank lines left out."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def digest(directory: Path = WORDLISTS_DIR) -> str:
    """SHA-256 over every word list's name and content lines: a model records the lists it was
    trained with, since the same data and parameters give another model under other lists."""
    h = hashlib.sha256()
    for path in sorted(directory.glob("*.txt")):
        h.update(path.name.encode("utf-8") + b"\0")
        for line in content_lines(path):
            h.update(line.encode("utf-8") + b"\n")
        h.update(b"\0")
    return h.hexdigest()


def read_words(path: Path) -> tuple[str, ...]:
    """The words of a list file, in file order, comment lines left out."""
    return tuple(word for line in content_lines(path) for word in line.split())


def read_sections(path: Path) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The ``[heading]`` sections of a file with their words, in file order."""
    sections: list[tuple[str, list[str]]] = []
    for line in content_lines(path):
        if line.startswith("[") and line.endswith("]"):
            sections.append((line[1:-1], []))
        elif not sections:
            raise ValueError(f"{path.name}: words before the first [heading]")
        else:
            sections[-1][1].extend(line.split())
    return tuple((name, tuple(words)) for name, words in sections)


def read_emoji_classes(path: Path) -> dict[str, str]:
    """Emoji character → its class placeholder (``_emo_angry_`` …)."""
    classes: dict[str, str] = {}
    for line in content_lines(path):
        placeholder, chars = line.split(maxsplit=1)
        for char in chars:
            classes[char] = placeholder
    return classes


@dataclass(frozen=True)
class Lexicon:
    """Every word list the normaliser uses (Cyrillic ones already in folded spelling)."""

    english_words: frozenset[str]
    english_function_words: frozenset[str]
    negators_before: frozenset[str]
    negators_before_english: frozenset[str]
    negators_after: frozenset[str]
    kazakh_what_after: tuple[str, ...]
    contrast: frozenset[str]
    contrast_english: frozenset[str]
    city_stems: tuple[str, ...]
    number_words: frozenset[str]
    duration_units: tuple[str, ...]
    repeat_units: tuple[str, ...]
    emoji_classes: dict[str, str]
    concepts: tuple[tuple[str, tuple[str, ...]], ...]
    lists_digest: str
    """:func:`digest` of the directory the lists were read from (a model records it)."""

    @classmethod
    def load(cls, directory: Path = WORDLISTS_DIR) -> Lexicon:
        """Read the word lists of ``directory`` (default: the shipped ones)."""

        def words(name: str) -> tuple[str, ...]:
            return read_words(directory / f"{name}.txt")

        return cls(
            english_words=frozenset(words("english_words")),
            english_function_words=frozenset(words("english_function_words")),
            negators_before=frozenset(words("negators_before")),
            negators_before_english=frozenset(words("negators_before_english")),
            negators_after=frozenset(words("negators_after")),
            kazakh_what_after=words("kazakh_what_after"),
            contrast=frozenset(words("contrast")),
            contrast_english=frozenset(words("contrast_english")),
            city_stems=words("city_stems"),
            number_words=frozenset(words("number_words")),
            duration_units=words("duration_units"),
            repeat_units=words("repeat_units"),
            emoji_classes=read_emoji_classes(directory / "emoji.txt"),
            concepts=read_sections(directory / "concepts.txt"),
            lists_digest=digest(directory),
        )
