"""Evaluation: per-tag P/R/F1, macro-F1, per-language macro-F1, confusion tables, worst errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import multilabel_confusion_matrix, precision_recall_fscore_support

from classifier.data import label_matrix
from classifier.tags import LANGS, TAGS, LabelledText
from classifier.thresholds import choose_thresholds, threshold_scores


def tag_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, dict[str, float | int]]:
    """Per-tag precision, recall, F1, support and TP/FP/FN/TN counts.

    A tag with no prediction (or no support) scores 0 rather than raising a warning.
    """
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, average=None, labels=range(len(TAGS)), zero_division=0.0
    )
    confusion = multilabel_confusion_matrix(y_true, y_pred, labels=range(len(TAGS)))
    out: dict[str, dict[str, float | int]] = {}
    for k, tag in enumerate(TAGS):
        (tn, fp), (fn, tp) = confusion[k]
        out[tag] = {
            "precision": round(float(precision[k]), 4),
            "recall": round(float(recall[k]), 4),
            "f1": round(float(f1[k]), 4),
            "support": int(support[k]),
            "tp": int(tp),
            "fp": int(fp),
            "fn": int(fn),
            "tn": int(tn),
        }
    return out


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Unweighted mean of per-tag F1 (tags with no support and no prediction count as 0)."""
    scores = tag_scores(y_true, y_pred)
    return round(float(np.mean([float(s["f1"]) for s in scores.values()])), 4)


def cooccurrence_confusion(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, dict[str, int]]:
    """``[true_tag][predicted_tag]`` = messages carrying ``true_tag`` that got ``predicted_tag``.

    Includes a ``none`` row/column for messages without any true / predicted tag.
    """
    names = [*TAGS, "none"]
    table = {a: dict.fromkeys(names, 0) for a in names}
    for t_row, p_row in zip(y_true.astype(bool), y_pred.astype(bool), strict=True):
        true_tags = [TAGS[k] for k in np.flatnonzero(t_row)] or ["none"]
        pred_tags = [TAGS[k] for k in np.flatnonzero(p_row)] or ["none"]
        for a in true_tags:
            for b in pred_tags:
                table[a][b] += 1
    return table


def threshold_ceiling(y: np.ndarray, proba: np.ndarray) -> dict[str, Any]:
    """Macro- and per-tag F1 with thresholds chosen on these very messages, by training's rule.

    Not a score: thresholds fitted to the messages they are scored on. It bounds what any
    choice of thresholds could give these probabilities, so a target above it needs a model
    that ranks the messages better, not other thresholds.
    """
    scores = threshold_scores(y, proba, choose_thresholds(y, proba))
    return {
        "macro_f1": scores["macro_f1"],
        "per_tag": {tag: s["f1"] for tag, s in scores["per_tag"].items()},
    }


def evaluate_predictions(
    messages: Sequence[LabelledText],
    proba: np.ndarray,
    thresholds: Mapping[str, float],
    worst: int = 10,
) -> dict[str, Any]:
    """Score thresholded probabilities against the messages' labels.

    Returns a JSON-able report: ``per_tag``, ``macro_f1``, ``per_language`` (macro-F1 and
    count per language), ``cooccurrence`` (true × predicted tags) and ``worst_errors``
    (highest-confidence false positives / lowest-scored false negatives, with text).
    """
    y = label_matrix(messages)
    thr = np.array([thresholds[t] for t in TAGS])
    pred = (proba >= thr).astype(np.int64)
    per_lang: dict[str, dict[str, float | int]] = {}
    langs = np.array([m.lang for m in messages])
    for lang in LANGS:
        mask = langs == lang
        if mask.any():
            per_lang[lang] = {"macro_f1": macro_f1(y[mask], pred[mask]), "n": int(mask.sum())}
    fps: list[dict[str, Any]] = []
    fns: list[dict[str, Any]] = []
    for i, msg in enumerate(messages):
        for k, tag in enumerate(TAGS):
            if pred[i, k] and not y[i, k]:
                fps.append(_err(msg, tag, float(proba[i, k]), pred[i]))
            elif y[i, k] and not pred[i, k]:
                fns.append(_err(msg, tag, float(proba[i, k]), pred[i]))
    fps.sort(key=lambda e: -e["score"])
    fns.sort(key=lambda e: e["score"])
    return {
        "n": len(messages),
        "per_tag": tag_scores(y, pred),
        "macro_f1": macro_f1(y, pred),
        "per_language": per_lang,
        "cooccurrence": cooccurrence_confusion(y, pred),
        "exact_match": round(
            float(np.mean(np.all(y == pred, axis=1))) if len(messages) else 0.0, 4
        ),
        "worst_errors": {"false_positives": fps[:worst], "false_negatives": fns[:worst]},
        "threshold_ceiling": threshold_ceiling(y, proba),
    }


def _err(msg: LabelledText, tag: str, score: float, pred_row: np.ndarray) -> dict[str, Any]:
    return {
        "id": msg.id,
        "lang": msg.lang,
        "tag": tag,
        "score": round(score, 4),
        "true": list(msg.labels),
        "predicted": [TAGS[k] for k in np.flatnonzero(pred_row)],
        "text": msg.text,
    }


def evaluate_model(
    model: Any, thresholds: Mapping[str, float], messages: Sequence[LabelledText], worst: int = 10
) -> dict[str, Any]:
    """Run a fitted pipeline on ``messages`` and return ``evaluate_predictions``' report."""
    proba = np.asarray(model.predict_proba([m.text for m in messages]))
    return evaluate_predictions(messages, proba, thresholds, worst=worst)


def summary(report: Mapping[str, Any]) -> dict[str, Any]:
    """The headline numbers of a report (what metadata and retraining decisions keep)."""
    per_tag = report["per_tag"]
    return {
        "n": report["n"],
        "macro_f1": report["macro_f1"],
        "per_language": {k: v["macro_f1"] for k, v in report["per_language"].items()},
        "per_tag": {
            t: {"precision": v["precision"], "recall": v["recall"], "f1": v["f1"]}
            for t, v in per_tag.items()
        },
        "corruption_recall": per_tag["corruption"]["recall"],
        "corruption_precision": per_tag["corruption"]["precision"],
    }


def format_report(report: Mapping[str, Any]) -> str:
    """Human-readable text: per-tag table, macro/per-language F1, confusion, worst errors."""
    lines = [
        f"messages: {report['n']}",
        "",
        f"{'tag':<16}{'P':>7}{'R':>7}{'F1':>7}{'sup':>6}{'TP':>6}{'FP':>6}{'FN':>6}{'TN':>6}",
    ]
    for tag, s in report["per_tag"].items():
        lines.append(
            f"{tag:<16}{s['precision']:>7.3f}{s['recall']:>7.3f}{s['f1']:>7.3f}{s['support']:>6}"
            f"{s['tp']:>6}{s['fp']:>6}{s['fn']:>6}{s['tn']:>6}"
        )
    lines += ["", f"macro-F1: {report['macro_f1']:.4f}   exact match: {report['exact_match']:.4f}"]
    for lang, s in report["per_language"].items():
        lines.append(f"  {lang:<6} macro-F1 {s['macro_f1']:.4f}  (n={s['n']})")
    ceiling = report["threshold_ceiling"]
    lines += [
        f"thresholds chosen on these messages themselves (a bound, not a score): macro-F1 "
        f"{ceiling['macro_f1']:.4f}",
        "  " + "  ".join(f"{tag} {f1:.3f}" for tag, f1 in ceiling["per_tag"].items()),
    ]
    names = [*TAGS, "none"]
    short = {t: t[:8] for t in names}
    lines += ["", "true \\ predicted " + "".join(f"{short[n]:>9}" for n in names)]
    for a in names:
        row = report["cooccurrence"][a]
        lines.append(f"{a:<17}" + "".join(f"{row[b]:>9}" for b in names))
    for kind in ("false_negatives", "false_positives"):
        lines += ["", f"worst {kind.replace('_', ' ')}:"]
        for e in report["worst_errors"][kind]:
            lines.append(
                f"  [{e['tag']} p={e['score']:.3f}] {e['id']} true={e['true']} "
                f"pred={e['predicted']}: {e['text'][:160]}"
            )
    return "\n".join(lines)
