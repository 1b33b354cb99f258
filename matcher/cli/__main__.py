"""``python -m matcher.cli`` runs the CLI."""

from matcher.cli import cli

cli()
