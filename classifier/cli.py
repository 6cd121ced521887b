"""``pikir classifier …`` commands: split, train, evaluate, predict."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

import click

from classifier import artifact
from classifier.data import (
    DataError,
    data_hash,
    extend_split,
    load_messages,
    load_split,
    make_split,
    read_eval_ids,
    write_eval_ids,
)
from classifier.evaluate import evaluate_model, format_report, summary
from classifier.pipeline import DEFAULT_SEED
from classifier.tagger import Tagger
from classifier.train import train


@click.group("classifier")
def classifier_group() -> None:
    """The complaint tagger: data split, training, evaluation, prediction."""


@classifier_group.command("split")
@click.option("--force", is_flag=True, help="Overwrite an existing eval_ids.txt.")
@click.option(
    "--extend", is_flag=True, help="Add a stratified share of newly added batches to the split."
)
def split_cmd(force: bool, extend: bool) -> None:
    """Write the fixed evaluation split (classifier/data/eval_ids.txt)."""
    try:
        messages = load_messages()
        if extend:
            current = read_eval_ids()
            ids = sorted(current | set(extend_split(messages, current)))
            force = True
        else:
            ids = make_split(messages)
        path = write_eval_ids(ids, force=force)
    except (DataError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from exc
    share = len(ids) / len(messages)
    click.echo(f"wrote {len(ids)} of {len(messages)} ids ({share:.1%}) to {path}")


@classifier_group.command("train")
@click.option(
    "--artifacts",
    type=click.Path(path_type=Path),
    default=None,
    help="Artifact root (default: the package's artifacts directory).",
)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True)
@click.option("--jobs", type=int, default=2, show_default=True, help="Parallel search jobs.")
def train_cmd(artifacts: Path | None, seed: int, jobs: int) -> None:
    """Train on the train split, evaluate on the eval split, install as ``current``."""
    try:
        train_set, eval_set = load_split()
    except (DataError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from exc
    result = train(train_set, seed, n_jobs=jobs)
    report = evaluate_model(result.model, result.thresholds, eval_set)
    meta = artifact.build_metadata(
        data_hash=data_hash(train_set),
        n_messages=len(train_set) + len(eval_set),
        n_train=len(train_set),
        n_eval=len(eval_set),
        params=result.params,
        thresholds=result.thresholds,
        cv_scores=result.cv_scores,
        eval_scores=summary(report),
        train_seconds=result.train_seconds,
    )
    target = artifact.install(result.model, meta, artifacts)
    artifact.append_decision(
        {
            "action": "train",
            "decided_at": meta["created_at"],
            "candidate_version": meta["version"],
            "candidate_scores": meta["eval_scores"],
            "promoted": True,
            "reason": "trained with `pikir classifier train` and installed as current",
        },
        artifacts,
    )
    click.echo(f"model {meta['version']} written to {target} ({result.train_seconds:.1f} s)")
    click.echo(f"params: {json.dumps(result.params, ensure_ascii=False)}")
    click.echo(f"thresholds: {json.dumps(result.thresholds)}")
    click.echo(f"cross-validation (train split) OOF macro-F1: {result.cv_scores['oof_macro_f1']}")
    click.echo(format_report(report))


@classifier_group.command("evaluate")
@click.option("--artifacts", type=click.Path(path_type=Path), default=None)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--worst", type=int, default=10, show_default=True, help="Worst errors to list.")
def evaluate_cmd(artifacts: Path | None, as_json: bool, worst: int) -> None:
    """Evaluate a model on the fixed evaluation split."""
    try:
        tagger = Tagger.load(artifacts)
        _, eval_set = load_split()
    except (DataError, FileNotFoundError, artifact.UntrustedArtifactError) as exc:
        raise click.ClickException(str(exc)) from exc
    report = evaluate_model(tagger.model, tagger.thresholds, eval_set, worst=worst)
    report["version"] = tagger.version
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        click.echo(f"model {tagger.version}")
        click.echo(format_report(report))


class BadLine(ValueError):
    """An input line of ``predict`` that cannot be tagged; the message names what is wrong."""


def _parse(line: str) -> tuple[Any, str]:
    """(id, text) of one input line; :class:`BadLine` when it has no text to tag."""
    try:
        obj = json.loads(line)
    except ValueError as exc:
        raise BadLine(f"not JSON ({getattr(exc, 'msg', exc)})") from None
    if not isinstance(obj, dict):
        raise BadLine('not a JSON object like {"id": …, "text": …}')
    if "text" not in obj:
        raise BadLine('no "text" field')
    text = obj["text"]
    if not isinstance(text, str) or not text.strip():
        raise BadLine('"text" must be a non-empty string')
    msg_id = obj.get("id")
    if not isinstance(msg_id, str | int | float) or isinstance(msg_id, bool):
        msg_id = None
    return msg_id, text


def _batches(lines: Iterable[str], size: int) -> Iterator[list[tuple[int, str]]]:
    """Numbered non-blank lines (from 1) in batches of ``size``."""
    batch: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        batch.append((number, line))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def predict_stream(
    tagger: Tagger, lines: Iterable[str], out: TextIO, batch_size: int, errors: TextIO
) -> tuple[int, int]:
    """Tag JSON lines ``{"id", "text"}`` into JSON lines ``{"id", "labels", "scores"}``.

    Output order is input order; blank lines are skipped. A line that is not JSON or has no
    text is reported on ``errors`` with its line number and gets no output, and the rest are
    still tagged. Returns (lines written, lines refused).
    """
    written = refused = 0
    for batch in _batches(lines, max(1, batch_size)):
        parsed: list[tuple[Any, str]] = []
        for number, line in batch:
            try:
                parsed.append(_parse(line))
            except BadLine as exc:
                errors.write(f"line {number}: {exc}\n")
                refused += 1
        preds = tagger.predict([text for _, text in parsed])
        for (msg_id, _), pred in zip(parsed, preds, strict=True):
            out.write(
                json.dumps(
                    {"id": msg_id, "labels": pred.labels, "scores": pred.scores},
                    ensure_ascii=False,
                )
                + "\n"
            )
            written += 1
        out.flush()
    return written, refused


@classifier_group.command("predict")
@click.option("--artifacts", type=click.Path(path_type=Path), default=None)
@click.option(
    "--batch-size",
    type=int,
    default=1000,
    show_default=True,
    help="Messages scored together; each batch has a fixed cost (scikit-learn's input checks).",
)
def predict_cmd(artifacts: Path | None, batch_size: int) -> None:
    """Read JSON lines {"id", "text"} on stdin, write {"id", "labels", "scores"} lines.

    A line that is not JSON or has no text is named on stderr and the exit status is 1.
    """
    try:
        tagger = Tagger.load(artifacts)
    except (FileNotFoundError, artifact.UntrustedArtifactError) as exc:
        raise click.ClickException(str(exc)) from exc
    lines = (line.rstrip("\r\n") for line in sys.stdin)
    _, refused = predict_stream(tagger, lines, sys.stdout, batch_size, sys.stderr)
    if refused:
        raise click.ClickException(
            f"{refused} line(s) could not be tagged (see above); the others were"
        )


if __name__ == "__main__":
    sys.exit(classifier_group())
