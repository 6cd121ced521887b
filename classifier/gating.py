"""The complaint gate: how a tag's probability is tempered by "is this a complaint at all?".

A tag's own one-vs-rest model reads topic: eGov, a queue, an envelope. Praise of the app, a
short wait called fine, a gift the operator refused all carry the topic without the complaint,
and each tag's model alone raises them. The model therefore has one more output, the
*complaint gate*: a logistic regression over the same features for "the message has any tag".
Every tag's probability is combined with it as a weighted geometric mean,

    p_tag ** (1 - w) * p_gate ** w,

so a tag is reported where its topic and a complaint are both there. The gate's coefficients
come from training, the weight ``w`` is a hyper-parameter (``GATE_WEIGHT``, chosen as the model
card, ``classifier/MODEL_CARD.md``, shows), and thresholds are chosen on the combined
probabilities.
Standard library only: the service's scorer uses it too (the array form below works on numpy
arrays through their operators, without importing numpy).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

GATE_NAME = "complaint"
"""The gate's column name in training logs (it is not a tag and never reported as one)."""

GATE_WEIGHT = 0.25
"""The default weight of the gate in the combined probability (0: no gate)."""


def combine(tag_probabilities: Sequence[float], gate: float, weight: float) -> list[float]:
    """The tags' probabilities tempered by the gate's (see the module docstring)."""
    keep = 1.0 - weight
    factor = gate**weight
    return [p**keep * factor for p in tag_probabilities]


def gate_probabilities(raw: Any, weight: float) -> Any:
    """The same for a whole batch: the tag columns of the 2-D array ``raw`` (the tags, then
    the gate) tempered by its last column."""
    return raw[:, :-1] ** (1.0 - weight) * raw[:, -1:] ** weight
