"""The one-tap criteria of the conversation, in the order they are asked.

A feedback stores each as ``crit_<name>``: True (positive), False (negative) or NULL (skipped).
"""

from __future__ import annotations

CRITERIA: tuple[str, ...] = ("politeness", "waiting", "information", "result", "no_extra_payment")
