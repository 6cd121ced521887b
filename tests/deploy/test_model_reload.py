"""Two workers sharing one artifact directory: a model promoted by one is served by the other,
which learns of it only by its own checks, and a half-installed model is never served."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.main import TAGGER, build_app
from bot.settings import DatabaseSettings, Settings
from bot.tagging import ClassifierTagger
from classifier.layout import ARTIFACTS_DIR, LINEAR_FILE, current_dir
from classifier.retrain import rollback
from storage.database import Database

TEXT = "the official asked me for money to speed up my passport"
CHECK_SECONDS = 0.2
# How long the other worker may take to follow: a check every CHECK_SECONDS, then a load that
# takes 0.05 s on an idle core and far longer on a busy CI machine (five checks were once not
# enough there). A bound on liveness, not a speed goal.
FOLLOW_SECONDS = 50 * CHECK_SECONDS


@pytest.fixture
def shared_artifacts(tmp_path: Path) -> Path:
    """A copy of the shipped model and the one before it, as a shared directory holds them."""
    root = tmp_path / "shared" / "models"
    for name in ("current", "previous"):
        shutil.copytree(ARTIFACTS_DIR / name, root / name)
    return root


@pytest.fixture
async def two_workers(
    database: Database, shared_artifacts: Path, tmp_path: Path
) -> AsyncIterator[list[web.Application]]:
    settings = Settings(
        database=DatabaseSettings(url=database.url),
        data_dir=tmp_path / "shared",
        security={"secret_key": "one key for every worker"},  # type: ignore[arg-type]
        scheduler={"enabled": False},  # type: ignore[arg-type]
        classifier={  # type: ignore[arg-type]
            "artifacts_dir": shared_artifacts,
            "reload_check_seconds": CHECK_SECONDS,
        },
    )
    runners = []
    for _ in range(2):
        runner = web.AppRunner(build_app(settings), handle_signals=False)
        await runner.setup()
        runners.append(runner)
    yield [runner.app for runner in runners]
    for runner in runners:
        await runner.cleanup()


def _version(app: web.Application) -> str:
    tagger = app[TAGGER]
    assert isinstance(tagger, ClassifierTagger)
    result = tagger.tag(TEXT)
    assert result is not None
    return result.model_version


async def _served_within(app: web.Application, version: str, seconds: float) -> None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if _version(app) == version:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"still serving {_version(app)}, not {version}")


async def test_a_model_promoted_by_one_worker_is_served_by_the_other(
    two_workers: list[web.Application], shared_artifacts: Path
) -> None:
    promoting, other = two_workers
    before = _version(other)
    # The promotion as the retraining job does it: the model in the shared directory changes
    # and the promoting worker reloads at once; the other one learns of it on its own.
    promoted = rollback(shared_artifacts)
    assert promoted != before
    tagger = promoting[TAGGER]
    assert tagger is not None and tagger.reload(shared_artifacts)
    assert _version(promoting) == promoted
    await _served_within(other, promoted, FOLLOW_SECONDS)
    # And back again: every change is followed, not only the first.
    assert rollback(shared_artifacts) == before
    await _served_within(other, before, FOLLOW_SECONDS)


async def test_a_broken_model_is_not_served_and_is_tried_again(
    two_workers: list[web.Application], shared_artifacts: Path
) -> None:
    _, other = two_workers
    before = _version(other)
    promoted = rollback(shared_artifacts)
    linear = current_dir(shared_artifacts) / LINEAR_FILE
    good = linear.read_bytes()
    linear.write_bytes(b"not a model")  # the metadata says new, the model cannot be read
    await asyncio.sleep(4 * CHECK_SECONDS)
    assert _version(other) == before, "kept serving the model that works"
    linear.write_bytes(good)
    await _served_within(other, promoted, FOLLOW_SECONDS)
