"""``python -m bot.cli``: the same as ``pikir``."""

from bot.cli import cli

cli()
