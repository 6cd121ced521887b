"""Every vocabulary tag reaches every place that must know it.

Fails if a tag lacks its count columns in the migrated database (both backends), its option in
the queue filter, its correction on the case page, its column in the report and exports, its
name in the panel's catalogs (kk, ru; English is the message itself) and the exports' headers
(kk, ru, en), its SLA setting, or a place in the classifier's outputs. The classifier is checked
on the training pipeline's label set (``classifier.tags.TAGS``), not on the shipped model: a
model trained before a tag existed is allowed to lack it (the service then never reports it),
but the pipeline must learn every tag the labelled data has examples of.
"""

from __future__ import annotations

import json
import re

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import inspect

from admin.figures.labels import label
from admin.figures.report import FigureRow, export_record
from admin.i18n import LOCALES_DIR
from admin.views.labels import TAG_LABELS
from bot.settings import Settings
from classifier import tags as classifier_tags
from classifier.data import MESSAGES_DIR
from storage.database import Database
from storage.models import StaffRole
from tests.admin.conftest import (  # noqa: F401 - the panel's fixtures
    Panel,
    channel_files,
    clock,
    hasher,
    panel,
    panel_config,
)
from vocabulary import DEFAULT_SLA_HOURS, LANGUAGES, TAGS


async def test_count_columns_in_the_migrated_database(database: Database) -> None:
    def columns(connection, table: str) -> set[str]:
        return {column["name"] for column in inspect(connection).get_columns(table)}

    async with database.engine.connect() as conn:
        for table in ("monthly_aggregates", "monthly_rollups"):
            present = await conn.run_sync(columns, table)
            missing = [tag for tag in TAGS if f"tag_{tag}" not in present]
            assert not missing, f"{table} lacks {missing}"


async def test_queue_filter_and_case_page_corrections(panel: Panel) -> None:  # noqa: F811
    case = await panel.add_case(labels=("rudeness",))
    client = await panel.as_role(StaffRole.ADMIN)
    queue = await (await client.get("/admin/queue")).text()
    options = set(re.findall(r'<option value="([a-z_]+)"', queue))
    page = await (await client.get(f"/admin/cases/{case.id}")).text()
    for tag in TAGS:
        assert tag in options, f"no queue filter for {tag}"
        assert f'name="tag_{tag}" value="1"' in page, f"no correction of {tag}"
        assert TAG_LABELS[tag] in page


def test_report_and_export_columns_and_their_headers() -> None:
    record = export_record(FigureRow("country", {}, min_cell=10))
    for tag in TAGS:
        key = f"tag_{tag}"
        assert key in record, f"no export column for {tag}"
        names = [label(key, language) for language in LANGUAGES]
        assert all(name != key for name in names), f"untranslated export header for {tag}"
        assert len(set(names[:2])) == 2 and names[2] == TAG_LABELS[tag]


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_panel_catalogs_name_every_tag(language: str) -> None:
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        catalog = read_po(po_file, locale=language)
    for tag in TAGS:
        message = catalog.get(TAG_LABELS[tag])
        assert message is not None and message.string and not message.fuzzy, (tag, language)


def test_every_tag_has_an_sla_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().sla.model_dump() == dict(DEFAULT_SLA_HOURS)
    assert set(DEFAULT_SLA_HOURS) == {*TAGS, "low_rating"}
    for tag in TAGS:
        monkeypatch.setenv(f"PIKIR_SLA__{tag.upper()}", "5")
    assert {tag: Settings().sla.model_dump()[tag] for tag in TAGS} == dict.fromkeys(TAGS, 5)


def test_the_training_pipeline_learns_every_tag_it_has_data_for() -> None:
    learned = classifier_tags.TAGS
    assert learned == tuple(tag for tag in TAGS if tag in learned), "not in severity order"
    missing = set(TAGS) - set(learned) - classifier_tags.AWAITING_DATA
    assert not missing, f"the classifier would never output {sorted(missing)}"
    # A tag may wait for training data only while the data has no example of it.
    labelled: set[str] = set()
    for path in sorted(MESSAGES_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                labelled.update(json.loads(line).get("labels", []))
    ready = sorted(classifier_tags.AWAITING_DATA & labelled)
    assert not ready, f"the data has examples of {ready}: take them out of AWAITING_DATA"
    assert set(TAGS) >= classifier_tags.AWAITING_DATA
