"""Data loading/validation, data hash, and the fixed stratified evaluation split."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from classifier.data import (
    EVAL_IDS_PATH,
    DataError,
    data_hash,
    iterative_stratification,
    label_matrix,
    load_messages,
    load_split,
    make_split,
    read_eval_ids,
    write_eval_ids,
)
from classifier.tags import LANGS, TAGS, LabelledText


def _write(directory: Path, name: str, rows: list[object]) -> Path:
    path = directory / name
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _msg(i: str, labels: list[str] | None = None, lang: str = "ru") -> dict[str, object]:
    return {"id": i, "lang": lang, "text": f"текст {i}", "labels": labels or []}


def test_loads_and_sorts(tmp_path: Path) -> None:
    _write(tmp_path, "b.jsonl", [_msg("b-2", ["delay"]), _msg("b-1")])
    _write(tmp_path, "a.jsonl", [_msg("a-1", ["rudeness", "corruption"], "kk")])
    msgs = load_messages(tmp_path)
    assert [m.id for m in msgs] == ["a-1", "b-1", "b-2"]
    assert msgs[0].labels == ("corruption", "rudeness")  # severity order


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ("{not json", "x.jsonl:2: invalid JSON"),
        (_msg("x-2", ["bribery"]), "x.jsonl:2: unknown tag(s) bribery"),
        (_msg("x-2", lang="de"), "x.jsonl:2: unknown lang 'de'"),
        ({"id": "x-2", "lang": "ru", "labels": []}, "x.jsonl:2: missing field(s) text"),
        ({"id": "x-2", "lang": "ru", "text": "", "labels": []}, "x.jsonl:2: text must be"),
        ({"id": "x-2", "lang": "ru", "text": "t", "labels": "delay"}, "x.jsonl:2: labels must"),
    ],
)
def test_validation_errors_name_file_and_line(tmp_path: Path, row: object, needle: str) -> None:
    _write(tmp_path, "x.jsonl", [_msg("x-1"), row])
    with pytest.raises(DataError) as err:
        load_messages(tmp_path)
    assert needle in str(err.value)


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    _write(tmp_path, "a.jsonl", [_msg("dup")])
    _write(tmp_path, "b.jsonl", [_msg("ok"), _msg("dup")])
    with pytest.raises(DataError, match=r"b\.jsonl:2: duplicate id 'dup' \(first at a\.jsonl:1\)"):
        load_messages(tmp_path)


def test_no_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no"):
        load_messages(tmp_path)


def test_real_data_is_valid() -> None:
    msgs = load_messages()
    assert len(msgs) > 2000
    assert {m.lang for m in msgs} == set(LANGS)


def test_data_hash_is_canonical() -> None:
    a = LabelledText("1", "ru", "x", ("delay",))
    b = LabelledText("2", "kk", "y", ("corruption", "rudeness"))
    assert data_hash([a, b]) == data_hash([b, a])
    assert data_hash([a, b]) != data_hash([a, LabelledText("2", "kk", "y", ("corruption",))])
    assert len(data_hash([a])) == 64


def test_split_is_deterministic_disjoint_and_at_least_20_percent() -> None:
    msgs = load_messages()
    ids1, ids2 = make_split(msgs), make_split(list(reversed(msgs)))
    assert ids1 == ids2
    assert len(ids1) >= 0.2 * len(msgs)
    train, evaluation = load_split()
    train_ids, eval_ids = {m.id for m in train}, {m.id for m in evaluation}
    assert not train_ids & eval_ids
    assert len(evaluation) >= 0.2 * (len(train) + len(evaluation))


def test_split_is_stratified_by_tag_and_language() -> None:
    train, evaluation = load_split()
    y_train, y_eval = label_matrix(train), label_matrix(evaluation)
    assert np.allclose(y_train.mean(axis=0), y_eval.mean(axis=0), atol=0.02)
    assert abs((y_train.sum(1) == 0).mean() - (y_eval.sum(1) == 0).mean()) < 0.03
    n_train, n_eval = Counter(m.lang for m in train), Counter(m.lang for m in evaluation)
    for lang in LANGS:
        share = n_eval[lang] / (n_eval[lang] + n_train[lang])
        assert 0.17 <= share <= 0.23, (lang, share)
    for k, tag in enumerate(TAGS):
        assert y_eval[:, k].sum() >= 50, tag


def test_iterative_stratification_spreads_a_rare_label() -> None:
    y = np.zeros((100, 2), dtype=np.int64)
    y[:10, 0] = 1  # rare
    y[::2, 1] = 1
    fold = iterative_stratification(y, [0.2, 0.8], seed=1)
    assert (fold == 0).sum() == 20
    assert y[fold == 0, 0].sum() == 2
    assert y[fold == 0, 1].sum() == 10


def test_eval_ids_file_is_fixed(tmp_path: Path) -> None:
    assert EVAL_IDS_PATH.exists()
    target = tmp_path / "eval_ids.txt"
    write_eval_ids(["b", "a"], target)
    assert target.read_text() == "a\nb\n"
    with pytest.raises(FileExistsError):
        write_eval_ids(["c"], target)
    write_eval_ids(["c"], target, force=True)
    assert read_eval_ids(target) == {"c"}


def test_later_messages_go_to_train(tmp_path: Path) -> None:
    _write(tmp_path, "a.jsonl", [_msg("a-1"), _msg("a-2"), _msg("a-3")])
    ids = tmp_path / "eval_ids.txt"
    write_eval_ids(["a-2"], ids)
    _write(tmp_path, "a.jsonl", [_msg("a-1"), _msg("a-2"), _msg("a-3"), _msg("a-4")])
    train, evaluation = load_split(tmp_path, ids)
    assert [m.id for m in evaluation] == ["a-2"]
    assert [m.id for m in train] == ["a-1", "a-3", "a-4"]


def test_extending_the_split_keeps_old_ids_and_takes_a_share_of_new_batches() -> None:
    from classifier.data import extend_split

    msgs = load_messages()
    old_batches = {"ru1", "ru2", "kk1", "kk2", "en1", "mx1"}
    old = [m for m in msgs if m.id.split("-")[0] in old_batches]
    frozen = set(make_split(old))
    added = extend_split(msgs, frozen)
    assert added and not frozen & set(added)
    assert all(i.split("-")[0] not in old_batches for i in added)
    assert len(frozen) + len(added) >= 0.2 * len(msgs)
    assert extend_split(msgs, frozen | set(added)) == []
