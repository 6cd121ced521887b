"""Every worker serves the model in service: a promoted (or rolled back) model is noticed by
its identity in the artifact directory, which the workers share, and loaded in its place."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import structlog

from bot.tagging import ClassifierTagger

log = structlog.get_logger("pikir.model_watch")


def model_identity(artifacts_dir: Path | None) -> str | None:
    """The version and creation time of the model now in ``artifacts_dir``; None while there is
    none readable (a promotion swaps directories, so there is a moment without one)."""
    from classifier.layout import METADATA_FILE, model_dir

    try:
        metadata = json.loads((model_dir(artifacts_dir) / METADATA_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return f"{metadata.get('version')}@{metadata.get('created_at')}"


class ModelWatcher:
    """Reloads ``tagger`` when the model in ``artifacts_dir`` is no longer the one it loaded."""

    def __init__(self, tagger: ClassifierTagger, artifacts_dir: Path | None) -> None:
        self._tagger = tagger
        self._artifacts_dir = artifacts_dir
        self._serving = model_identity(artifacts_dir)

    async def check(self) -> bool:
        """One look at the shared directory; True when a different model was loaded."""
        found = await asyncio.to_thread(model_identity, self._artifacts_dir)
        if found is None or found == self._serving:
            return False
        # Only a successful load moves the mark, so a half-installed model is tried again.
        if not await asyncio.to_thread(self._tagger.reload, self._artifacts_dir):
            return False
        log.info("classifier.promoted_elsewhere", serving=found, previous=self._serving)
        self._serving = found
        return True

    async def run(self, interval: float) -> None:
        """Check every ``interval`` seconds until cancelled."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.check()
            except Exception as exc:  # a failed look must not end the watching
                log.warning("classifier.watch_failed", error=f"{type(exc).__name__}: {exc}")
