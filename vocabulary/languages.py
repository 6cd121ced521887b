"""The languages of the service."""

from __future__ import annotations

LANGUAGES: tuple[str, ...] = ("kk", "ru", "en")
"""The languages citizens and staff are served in (and every catalog is translated into)."""

DATA_LANGUAGES: tuple[str, ...] = (*LANGUAGES, "kk-ru")
"""The languages a labelled training message may be marked with: mixed Kazakh-Russian too."""
