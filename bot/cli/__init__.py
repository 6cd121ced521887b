"""The ``pikir`` command line: thin commands over the composition root (``bot.main``)."""

from __future__ import annotations

import click

from bot.cli.data import aggregate, export, import_, month
from bot.cli.service import demo, migrate, serve, telegram
from bot.cli.staff import staff


class _PikirGroup(click.Group):
    """``pikir``'s commands, with ``pikir classifier …`` loaded only when it is asked for.

    The classifier's commands import scikit-learn and skops, which take seconds; the other
    commands (``serve`` with the classifier switched off, ``staff add``, …) need not wait.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), "classifier"])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name == "classifier":
            from classifier.cli import classifier_group

            return classifier_group
        return super().get_command(ctx, cmd_name)


@click.group(cls=_PikirGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Pikir: citizens' feedback on public service centres."""


for command in (serve, migrate, demo, telegram, staff, import_, aggregate, month, export):
    cli.add_command(command)
