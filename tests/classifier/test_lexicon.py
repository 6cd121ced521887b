"""The normaliser's word lists: read from data files, owned by a normaliser with its caches."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from classifier.layout import LINEAR_FILE, METADATA_FILE, current_dir
from classifier.lexicon import WORDLISTS_DIR, Lexicon, digest, read_sections
from classifier.normalize import CITY, Normalizer, shared
from classifier.serving import ServingTagger


def test_the_shipped_lists_are_read_with_their_sections_in_order() -> None:
    lexicon = Lexicon.load()
    assert "nobody" in lexicon.negators_before_english
    assert "жок" in lexicon.negators_after
    assert lexicon.emoji_classes["😡"] == "_emo_angry_"
    names = [name for name, _ in lexicon.concepts]
    assert names[0] == "bribe" and len(names) == len(set(names))
    assert all(stems for _, stems in lexicon.concepts)
    assert not any(word.startswith("#") for word in lexicon.english_words)


def test_a_normaliser_follows_its_own_word_lists(tmp_path: Path) -> None:
    lists = tmp_path / "wordlists"
    shutil.copytree(WORDLISTS_DIR, lists)
    with (lists / "city_stems.txt").open("a", encoding="utf-8") as fh:
        fh.write("# a town added for this test\nжанатау\n")
    local = Normalizer(Lexicon.load(lists))
    assert CITY in local.views("в Жанатау")[0]
    assert CITY not in shared().views("в Жанатау")[0]  # the shipped lists are untouched
    assert local.views("оператор накричала")[1] == shared().views("оператор накричала")[1]


def test_stems_before_any_heading_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "concepts.txt"
    path.write_text("# comment\nстем\n[money]\nденьг\n", encoding="utf-8")
    with pytest.raises(ValueError, match="before the first"):
        read_sections(path)


def test_the_digest_changes_with_the_words_not_with_comments(tmp_path: Path) -> None:
    lists = tmp_path / "wordlists"
    shutil.copytree(WORDLISTS_DIR, lists)
    assert digest(lists) == digest()
    with (lists / "concepts.txt").open("a", encoding="utf-8") as fh:
        fh.write("\n# a comment says why, and changes no feature\n")
    assert digest(lists) == digest()
    with (lists / "concepts.txt").open("a", encoding="utf-8") as fh:
        fh.write("[extra]\nстем\n")
    assert digest(lists) != digest()


def test_a_model_trained_with_other_word_lists_is_logged_when_loaded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model = tmp_path / "model"
    model.mkdir()
    for name in (LINEAR_FILE, METADATA_FILE):
        shutil.copy(current_dir() / name, model / name)
    with caplog.at_level(logging.WARNING, logger="classifier.scoring"):
        ServingTagger.load(model)
    assert "other word lists" not in caplog.text

    metadata = json.loads((model / METADATA_FILE).read_text(encoding="utf-8"))
    metadata["lexicon"] = "0" * 64
    (model / METADATA_FILE).write_text(json.dumps(metadata), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="classifier.scoring"):
        tagger = ServingTagger.load(model)
    assert f"model {tagger.version} was trained with other word lists" in caplog.text
