"""The click commands: predict keeps order and names bad lines; split refuses to overwrite."""

from __future__ import annotations

import json

from click.testing import CliRunner

from classifier.cli import classifier_group
from classifier.data import EVAL_IDS_PATH
from classifier.layout import ARTIFACTS_DIR
from classifier.tags import TAGS


def _run(stdin: str, *args: str):
    return CliRunner().invoke(
        classifier_group, ["predict", "--artifacts", str(ARTIFACTS_DIR), *args], input=stdin
    )


def test_predict_keeps_input_order_in_batches() -> None:
    texts = [
        "оператор накричала на меня при всех, паспорт швырнула",
        "намекнули что если отблагодарить то сделают завтра",
        "kezek 3 sagat, 2 okno gana jumys istep tur",
        "thank you, everything was quick",
        "в свидетельстве о рождении фамилию ребенка написали с ошибкой",
    ]
    lines = [
        json.dumps({"id": f"m{i}", "text": t}, ensure_ascii=False) for i, t in enumerate(texts)
    ]
    result = _run("\n".join(lines) + "\n", "--batch-size", "2")
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.output.splitlines()]
    assert [o["id"] for o in out] == [f"m{i}" for i in range(len(texts))]
    for o in out:
        assert set(o["scores"]) == set(TAGS)
        assert all(0.0 <= p <= 1.0 for p in o["scores"].values())
        assert o["labels"] == [t for t in TAGS if t in o["labels"]]
    assert "rudeness" in out[0]["labels"]
    assert "corruption" in out[1]["labels"]


def test_bad_lines_are_named_on_stderr_and_fail_the_run() -> None:
    stdin = "\n".join(
        [
            json.dumps({"id": 1, "text": "оператор накричала, паспорт швырнула"}),
            "",
            "{not json",
            json.dumps({"id": "x", "text": ""}),
            json.dumps({"id": "y", "text": None}),
            json.dumps({"id": "z", "text": 12}),
            json.dumps(["a", "list"]),
            json.dumps({"id": "no-text", "body": "текст не в том поле"}),
            json.dumps({"text": "нет id, но текст есть"}),
            json.dumps({"id": "last", "text": "долго ждала"}),
        ]
    )
    result = _run(stdin + "\n", "--batch-size", "3")
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    assert errors[:6] == [
        "line 3: not JSON (Expecting property name enclosed in double quotes)",
        'line 4: "text" must be a non-empty string',
        'line 5: "text" must be a non-empty string',
        'line 6: "text" must be a non-empty string',
        'line 7: not a JSON object like {"id": …, "text": …}',
        'line 8: no "text" field',
    ]
    assert "6 line(s) could not be tagged" in errors[6]
    # Nothing good is lost: the readable lines are tagged, in order, and only they.
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == [1, None, "last"]
    assert all(o["scores"] for o in out)
    assert "rudeness" in out[0]["labels"]


def test_a_run_of_good_lines_succeeds_with_nothing_on_stderr() -> None:
    result = _run(json.dumps({"id": 1, "text": "долго ждала"}) + "\n\n")
    assert result.exit_code == 0 and result.stderr == ""
    assert len(result.stdout.splitlines()) == 1


def test_predict_on_empty_stdin() -> None:
    result = _run("")
    assert result.exit_code == 0
    assert result.output == ""


def test_split_refuses_to_overwrite() -> None:
    before = EVAL_IDS_PATH.read_text()
    result = CliRunner().invoke(classifier_group, ["split"])
    assert result.exit_code != 0
    assert "--force" in result.output
    assert EVAL_IDS_PATH.read_text() == before


def test_evaluate_json() -> None:
    result = CliRunner().invoke(
        classifier_group, ["evaluate", "--artifacts", str(ARTIFACTS_DIR), "--json", "--worst", "2"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report["per_tag"]) == set(TAGS)
    assert set(report["per_language"]) == {"kk", "ru", "en", "kk-ru"}
    assert len(report["worst_errors"]["false_negatives"]) <= 2
    corruption = report["per_tag"]["corruption"]
    assert report["cooccurrence"]["corruption"]["corruption"] == corruption["tp"]
    # the shipped thresholds are among those the ceiling chooses from
    ceiling = report["threshold_ceiling"]
    assert ceiling["macro_f1"] >= report["macro_f1"]
    assert all(ceiling["per_tag"][t] >= report["per_tag"][t]["f1"] for t in TAGS)


def test_missing_artifact_is_a_clean_error(tmp_path) -> None:
    result = CliRunner().invoke(
        classifier_group, ["predict", "--artifacts", str(tmp_path)], input=""
    )
    assert result.exit_code != 0
    assert "missing" in result.output
