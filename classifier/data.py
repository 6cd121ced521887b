"""Labelled data: loading and validation, the data hash, and the fixed evaluation split."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from classifier.tags import LANGS, TAGS, LabelledText, sort_tags

DATA_DIR = Path(__file__).resolve().parent / "data"
MESSAGES_DIR = DATA_DIR / "messages"
EVAL_IDS_PATH = DATA_DIR / "eval_ids.txt"
EVAL_FRACTION = 0.2
SPLIT_SEED = 20240601


class DataError(ValueError):
    """A labelled-data file is malformed; the message names the file and line."""


def _parse_line(raw: str, where: str) -> LabelledText:
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: invalid JSON ({exc.msg})") from exc
    if not isinstance(obj, dict):
        raise DataError(f"{where}: expected a JSON object")
    missing = [key for key in ("id", "lang", "text", "labels") if key not in obj]
    if missing:
        raise DataError(f"{where}: missing field(s) {', '.join(missing)}")
    msg_id, lang, text, labels = obj["id"], obj["lang"], obj["text"], obj["labels"]
    if not isinstance(msg_id, str) or not msg_id.strip():
        raise DataError(f"{where}: id must be a non-empty string")
    if lang not in LANGS:
        raise DataError(f"{where}: unknown lang {lang!r} (known: {', '.join(LANGS)})")
    if not isinstance(text, str) or not text.strip():
        raise DataError(f"{where}: text must be a non-empty string")
    if not isinstance(labels, list) or not all(isinstance(t, str) for t in labels):
        raise DataError(f"{where}: labels must be a list of strings")
    unknown = sorted(set(labels) - set(TAGS))
    if unknown:
        raise DataError(f"{where}: unknown tag(s) {', '.join(unknown)}")
    if len(set(labels)) != len(labels):
        raise DataError(f"{where}: duplicate tag in labels")
    return LabelledText(id=msg_id, lang=lang, text=text, labels=tuple(sort_tags(labels)))


def load_messages(messages_dir: Path | None = None) -> list[LabelledText]:
    """Load every ``messages/*.jsonl`` file, checking ids are unique across files.

    Messages are returned sorted by id so that everything downstream is deterministic.
    """
    directory = messages_dir or MESSAGES_DIR
    files = sorted(directory.glob("*.jsonl"))
    if not files:
        raise DataError(f"{directory}: no *.jsonl files")
    seen: dict[str, str] = {}
    messages: list[LabelledText] = []
    for path in files:
        with path.open(encoding="utf-8") as fh:
            for lineno, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                where = f"{path.name}:{lineno}"
                msg = _parse_line(raw, where)
                if msg.id in seen:
                    raise DataError(f"{where}: duplicate id {msg.id!r} (first at {seen[msg.id]})")
                seen[msg.id] = where
                messages.append(msg)
    messages.sort(key=lambda m: m.id)
    return messages


def data_hash(messages: Iterable[LabelledText]) -> str:
    """SHA-256 over the canonical (id-sorted, key-sorted JSON) content of the messages."""
    digest = hashlib.sha256()
    for msg in sorted(messages, key=lambda m: m.id):
        record = {"id": msg.id, "labels": sorted(msg.labels), "lang": msg.lang, "text": msg.text}
        digest.update(json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def label_matrix(messages: Sequence[LabelledText]) -> np.ndarray:
    """Binary indicator matrix (n_messages x len(TAGS)) in ``TAGS`` order."""
    y = np.zeros((len(messages), len(TAGS)), dtype=np.int64)
    index = {tag: i for i, tag in enumerate(TAGS)}
    for row, msg in enumerate(messages):
        for tag in msg.labels:
            y[row, index[tag]] = 1
    return y


def stratification_matrix(messages: Sequence[LabelledText]) -> np.ndarray:
    """Tags plus one-hot language, id batch prefix and "no tag" columns, for stratifying."""
    y = label_matrix(messages)
    groups = sorted({f"lang:{m.lang}" for m in messages} | {_batch(m.id) for m in messages})
    extra = np.zeros((len(messages), len(groups) + 1), dtype=np.int64)
    gindex = {g: i for i, g in enumerate(groups)}
    for row, msg in enumerate(messages):
        extra[row, gindex[f"lang:{msg.lang}"]] = 1
        extra[row, gindex[_batch(msg.id)]] = 1
        if not msg.labels:
            extra[row, -1] = 1
    return np.hstack([y, extra])


def _batch(msg_id: str) -> str:
    return "batch:" + msg_id.split("-", 1)[0]


def iterative_stratification(y: np.ndarray, proportions: Sequence[float], seed: int) -> np.ndarray:
    """Assign each row of a multi-label matrix to a subset (Sechidis et al., 2011).

    Returns an array of subset indices. Deterministic for a given ``seed`` and row order.
    Subset sizes follow ``proportions`` (the first subsets are rounded up).
    """
    n = y.shape[0]
    rng = np.random.default_rng(seed)
    props = np.asarray(proportions, dtype=float) / float(sum(proportions))
    sizes = np.floor(props * n).astype(int)
    for j in range(n - int(sizes.sum())):
        sizes[j % len(sizes)] += 1
    desired = sizes.astype(float)
    desired_label = np.outer(props, y.sum(axis=0)).astype(float)
    assignment = np.full(n, -1, dtype=np.int64)
    remaining = y.astype(bool).copy()
    unassigned = np.ones(n, dtype=bool)
    order = rng.permutation(n)
    while unassigned.any():
        counts = remaining[unassigned].sum(axis=0)
        if counts.sum() == 0:
            rows = [r for r in order if unassigned[r]]
            for r in rows:
                best = np.flatnonzero(desired == desired.max())
                j = int(best[0] if len(best) == 1 else rng.choice(best))
                assignment[r] = j
                desired[j] -= 1
                unassigned[r] = False
            break
        masked = np.where(counts > 0, counts, np.iinfo(np.int64).max)
        label = int(np.argmin(masked))
        rows = [r for r in order if unassigned[r] and remaining[r, label]]
        for r in rows:
            cand = desired_label[:, label]
            best = np.flatnonzero(cand == cand.max())
            if len(best) > 1:
                sub = desired[best]
                best = best[sub == sub.max()]
            j = int(best[0] if len(best) == 1 else rng.choice(best))
            assignment[r] = j
            unassigned[r] = False
            desired[j] -= 1
            desired_label[j] -= y[r]
    return assignment


def stratified_folds(
    messages: Sequence[LabelledText], n_splits: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Iteratively stratified K folds as a list of ``(train_idx, test_idx)`` pairs."""
    fold = iterative_stratification(stratification_matrix(messages), [1.0] * n_splits, seed)
    idx = np.arange(len(messages))
    return [(idx[fold != k], idx[fold == k]) for k in range(n_splits)]


def make_split(
    messages: Sequence[LabelledText], fraction: float = EVAL_FRACTION, seed: int = SPLIT_SEED
) -> list[str]:
    """Choose the evaluation ids: stratified by tags, language and batch; >= ``fraction``."""
    ordered = sorted(messages, key=lambda m: m.id)
    n_eval = math.ceil(fraction * len(ordered))
    assignment = iterative_stratification(
        stratification_matrix(ordered), [n_eval, len(ordered) - n_eval], seed
    )
    return sorted(m.id for m, a in zip(ordered, assignment, strict=True) if a == 0)


def extend_split(messages: Sequence[LabelledText], eval_ids: set[str]) -> list[str]:
    """Evaluation ids for batches added after the split was fixed.

    A batch (the id prefix) with no message in the evaluation split is new: a stratified share
    of it joins the split, so the split stays at the agreed fraction while every id already in
    it stays there and no earlier training message is moved.
    """
    split_batches = {_batch(i) for i in eval_ids}
    new = [m for m in messages if _batch(m.id) not in split_batches]
    if not new:
        return []
    # Ask for enough of the new batches that the whole split reaches the fraction again.
    needed = math.ceil(EVAL_FRACTION * len(messages)) - len(eval_ids)
    fraction = min(1.0, max(EVAL_FRACTION, (needed + 1) / len(new)))
    while True:
        # The stratification can fall a few short of the asked share: ask for a bit more.
        ids = make_split(new, fraction=fraction)
        if len(ids) >= needed or fraction >= 1.0:
            return ids
        fraction = min(1.0, fraction + (needed - len(ids)) / len(new))


def write_eval_ids(ids: Sequence[str], path: Path | None = None, force: bool = False) -> Path:
    """Write the evaluation ids (one a line); refuses to overwrite unless ``force``."""
    target = path or EVAL_IDS_PATH
    if target.exists() and not force:
        raise FileExistsError(f"{target} exists; the evaluation split is fixed (use --force)")
    target.write_text("".join(f"{i}\n" for i in sorted(ids)), encoding="utf-8")
    return target


def read_eval_ids(path: Path | None = None) -> set[str]:
    """Read the fixed evaluation ids (blank lines and ``#`` comments ignored)."""
    target = path or EVAL_IDS_PATH
    if not target.exists():
        raise FileNotFoundError(f"{target} missing: run `pikir classifier split` first")
    lines = target.read_text(encoding="utf-8").splitlines()
    return {s.strip() for s in lines if s.strip() and not s.startswith("#")}


def load_split(
    messages_dir: Path | None = None, eval_ids_path: Path | None = None
) -> tuple[list[LabelledText], list[LabelledText]]:
    """Return ``(train, eval)``: eval is exactly the ids in ``eval_ids.txt``; all else trains."""
    messages = load_messages(messages_dir)
    eval_ids = read_eval_ids(eval_ids_path)
    train = [m for m in messages if m.id not in eval_ids]
    evaluation = [m for m in messages if m.id in eval_ids]
    return train, evaluation
