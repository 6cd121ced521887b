"""The port through which the panel asks the classifier why it set a tag."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol


class TagExplainer(Protocol):
    """Anything that names the words behind each tag (the classifier's ``Tagger``)."""

    def explain(self, text: str, top: int = 3) -> Mapping[str, Sequence[tuple[str, float]]]:
        """For each tag, the ``top`` words of ``text`` that pushed it up, with their weights."""
        ...
