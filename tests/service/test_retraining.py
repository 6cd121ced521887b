"""The weekly retraining as the service runs it: in a child process, and a promoted model
served at once by the running service."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from admin.jobs.deps import CorrectedExample
from bot.main import classifier_retrainer
from bot.settings import ClassifierSettings, Settings
from bot.tagging import ClassifierTagger
from classifier import artifact

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
TEXT = "оператор нагрубил и бросил паспорт"


def test_a_promoted_model_is_served_at_once(tmp_path: Path) -> None:
    tagger = ClassifierTagger.load(None)  # the shipped model in service
    assert tagger is not None
    shipped = tagger.tag(TEXT)
    assert shipped is not None
    root = tmp_path / "artifacts"  # no model yet: the candidate is promoted
    settings = Settings(classifier=ClassifierSettings(artifacts_dir=root))
    retrain = classifier_retrainer(settings, tagger)
    extra = [
        CorrectedExample("staff-1", "ru", TEXT, ("rudeness",)),
        CorrectedExample("staff-2", "en", "they asked for a bribe to hurry it", ("corruption",)),
    ]
    verdict = retrain(extra, NOW)

    candidate = artifact.read_metadata(artifact.current_dir(root))
    assert candidate is not None and verdict.startswith(f"promoted: {candidate['version']}")
    assert (artifact.current_dir(root) / "linear.zip").exists()
    served = tagger.tag(TEXT)
    assert served is not None and served.model_version == candidate["version"]
    assert served.model_version != shipped.model_version


def test_a_model_that_cannot_be_loaded_leaves_the_one_in_service(tmp_path: Path) -> None:
    tagger = ClassifierTagger.load(None)
    assert tagger is not None
    before = tagger.tag(TEXT)
    assert not tagger.reload(tmp_path / "nothing-here")
    assert tagger.tag(TEXT) == before
