"""Retraining with staff-corrected labels: train a candidate, compare, promote or refuse, roll back.

Staff labels are passed in (this module reads nothing from storage). The fixed evaluation
split is never trained on: an extra message whose id or text is in it is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from classifier import artifact
from classifier.data import data_hash, load_split
from classifier.evaluate import evaluate_model, summary
from classifier.pipeline import DEFAULT_SEED
from classifier.tagger import Tagger
from classifier.tags import LabelledText
from classifier.train import train


@dataclass
class RetrainDecision:
    """What a retraining run decided and why (also appended to ``decisions.jsonl``)."""

    promoted: bool
    reason: str
    decided_at: str
    candidate_version: str
    current_version: str | None
    candidate_scores: dict[str, Any]
    current_scores: dict[str, Any] | None
    n_train: int
    n_extra_used: int
    n_extra_dropped: int
    dropped_ids: list[str] = field(default_factory=list)

    def to_record(self) -> dict[str, Any]:
        """The JSON-able record written to the decisions log."""
        return {"action": "retrain", **asdict(self)}


def _canon(text: str) -> str:
    return " ".join(text.casefold().split())


def merge_training(
    train_set: Sequence[LabelledText],
    extra: Sequence[LabelledText],
    eval_set: Sequence[LabelledText],
) -> tuple[list[LabelledText], list[str], int]:
    """Train split plus staff-corrected messages, never anything from the evaluation split.

    An extra with the id of a train message replaces it (corrected labels). Returns the merged
    set (sorted by id), the ids of dropped extras and how many extras were used.
    """
    eval_ids = {m.id for m in eval_set}
    eval_texts = {_canon(m.text) for m in eval_set}
    merged = {m.id: m for m in train_set}
    dropped: list[str] = []
    used = 0
    for msg in extra:
        if msg.id in eval_ids or _canon(msg.text) in eval_texts:
            dropped.append(msg.id)
            continue
        merged[msg.id] = msg
        used += 1
    return sorted(merged.values(), key=lambda m: m.id), dropped, used


def should_promote(candidate: Mapping[str, Any], current: Mapping[str, Any]) -> tuple[bool, str]:
    """Promotion rule: neither eval macro-F1 nor corruption recall may go down. (ok, reason)."""
    cand_f1, cur_f1 = float(candidate["macro_f1"]), float(current["macro_f1"])
    cand_r, cur_r = float(candidate["corruption_recall"]), float(current["corruption_recall"])
    if cand_f1 < cur_f1:
        return False, f"macro-F1 would drop: {cand_f1:.4f} < {cur_f1:.4f}"
    if cand_r < cur_r:
        return False, f"corruption recall would drop: {cand_r:.4f} < {cur_r:.4f}"
    return True, (
        f"macro-F1 {cand_f1:.4f} >= {cur_f1:.4f} and corruption recall {cand_r:.4f} >= {cur_r:.4f}"
    )


def retrain_candidate(
    extra: Sequence[LabelledText],
    artifacts_root: Path | str | None = None,
    now: datetime | None = None,
    *,
    dataset: tuple[Sequence[LabelledText], Sequence[LabelledText]] | None = None,
    seed: int = DEFAULT_SEED,
    search: bool = True,
    params: Mapping[str, Any] | None = None,
    n_jobs: int | None = 2,
) -> RetrainDecision:
    """Train a candidate on train split + ``extra``, evaluate on the fixed eval split, decide.

    Promotes (current → previous, candidate → current) only if the candidate's eval macro-F1
    is not lower AND its corruption recall is not lower than the current model's (both
    measured now, on the same eval split). The decision is always appended to
    ``decisions.jsonl``. ``dataset`` (train, eval) defaults to ``load_split()``.
    """
    when = (now or datetime.now(UTC)).astimezone(UTC)
    train_set, eval_set = dataset if dataset is not None else load_split()
    merged, dropped, used = merge_training(train_set, extra, eval_set)
    result = train(merged, seed, search=search, params=params, n_jobs=n_jobs)
    cand_report = evaluate_model(result.model, result.thresholds, eval_set)
    cand_scores = summary(cand_report)
    hash_ = data_hash(merged)
    meta = artifact.build_metadata(
        data_hash=hash_,
        n_messages=len(merged) + len(eval_set),
        n_train=len(merged),
        n_eval=len(eval_set),
        params=result.params,
        thresholds=result.thresholds,
        cv_scores=result.cv_scores,
        eval_scores=cand_scores,
        train_seconds=result.train_seconds,
        now=when,
        extra={"n_staff_labels": used},
    )
    current = artifact.current_dir(artifacts_root)
    cur_version: str | None = None
    cur_scores: dict[str, Any] | None = None
    if (current / artifact.MODEL_FILE).exists():
        tagger = Tagger.load(current)
        cur_version = tagger.version
        cur_scores = summary(evaluate_model(tagger.model, tagger.thresholds, eval_set))
        promoted, reason = should_promote(cand_scores, cur_scores)
    else:
        promoted, reason = True, "no current model"
    if promoted:
        artifact.install(result.model, meta, artifacts_root)
    decision = RetrainDecision(
        promoted=promoted,
        reason=reason,
        decided_at=when.isoformat(timespec="seconds").replace("+00:00", "Z"),
        candidate_version=meta["version"],
        current_version=cur_version,
        candidate_scores=cand_scores,
        current_scores=cur_scores,
        n_train=len(merged),
        n_extra_used=used,
        n_extra_dropped=len(dropped),
        dropped_ids=dropped,
    )
    artifact.append_decision(decision.to_record(), artifacts_root)
    return decision


def rollback(artifacts_root: Path | str | None = None, now: datetime | None = None) -> str:
    """Put the previous model back in service (swap current and previous); log it.

    Returns the version now in service.
    """
    before = artifact.read_metadata(artifact.current_dir(artifacts_root)) or {}
    artifact.swap_previous(artifacts_root)
    after = artifact.read_metadata(artifact.current_dir(artifacts_root)) or {}
    when = (now or datetime.now(UTC)).astimezone(UTC)
    artifact.append_decision(
        {
            "action": "rollback",
            "decided_at": when.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "from_version": before.get("version"),
            "to_version": after.get("version"),
            "promoted": False,
            "reason": "manual rollback",
        },
        artifacts_root,
    )
    return str(after.get("version"))
