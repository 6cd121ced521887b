"""Retraining in a child process, so the service neither stalls nor keeps scikit-learn loaded.

Training takes tens of seconds of CPU: in a thread of the service it would hold the
interpreter's lock and slow every citizen's request meanwhile, and it leaves scikit-learn,
SciPy and the training data in the service's memory (well over 100 MB) until a restart. The
service runs ``python -m classifier.retrain_process`` instead, writes the request as JSON to its
standard input and reads the decision as JSON from its standard output.

Request: ``{"examples": [{"id", "lang", "text", "labels"}, …], "now": ISO time,
"artifacts_root": path or null}``. Answer: ``{"promoted", "reason", "candidate_version"}``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from classifier.tags import LabelledText

_STDERR_TAIL = 2000


class RetrainFailed(RuntimeError):
    """The child process could not retrain; the message carries its reason."""


def retrain_in_child(
    examples: Sequence[Mapping[str, Any]],
    now: datetime,
    artifacts_root: Path | None,
    *,
    timeout: float = 3600,
) -> dict[str, Any]:
    """Run one retraining in a child process and return its decision (blocks until done)."""
    request = {
        "examples": [dict(e) for e in examples],
        "now": now.isoformat(),
        "artifacts_root": str(artifacts_root) if artifacts_root is not None else None,
    }
    done = subprocess.run(  # the interpreter running the service, the module named here
        [sys.executable, "-m", "classifier.retrain_process"],
        input=json.dumps(request, ensure_ascii=False),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RetrainFailed(f"retraining failed: {done.stderr.strip()[-_STDERR_TAIL:]}")
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def labelled(examples: Sequence[Mapping[str, Any]]) -> list[LabelledText]:
    """The request's examples as training messages, keeping only the tags the pipeline learns:
    staff may correct a vocabulary tag that waits for training data (``AWAITING_DATA``)."""
    from classifier.tags import TAGS, LabelledText

    return [
        LabelledText(
            str(e["id"]),
            str(e["lang"]),
            str(e["text"]),
            tuple(tag for tag in e["labels"] if tag in TAGS),
        )
        for e in examples
    ]


def main() -> None:
    """Read a request from standard input, retrain, write the decision to standard output."""
    from classifier.retrain import retrain_candidate

    request = json.load(sys.stdin)
    examples = labelled(request["examples"])
    decision = retrain_candidate(
        examples,
        artifacts_root=request.get("artifacts_root"),
        now=datetime.fromisoformat(request["now"]),
    )
    json.dump(
        {
            "promoted": decision.promoted,
            "reason": decision.reason,
            "candidate_version": decision.candidate_version,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
