"""The ``matcher`` command line: parses options, calls the library, formats the result."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from matcher.errors import MatcherError
from matcher.settings import Settings, load_settings


class MatcherGroup(click.Group):
    """Click group that turns library errors into clean messages and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MatcherError as exc:
            raise click.ClickException(exc.message) from exc


class Context:
    """Lazily opened resources shared by the commands of one invocation."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: Any = None

    @property
    def store(self) -> Any:
        if self._store is None:
            from matcher.store import Store

            self._store = Store(self.settings.data_dir)
        return self._store

    @property
    def gazetteer(self) -> Any:
        from matcher.geo import load_gazetteer

        return load_gazetteer()

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def echo_json(data: Any) -> None:
    """Print data as readable JSON (umlauts unescaped)."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def progress(length: int, label: str) -> Any:
    """A progress bar on stderr (quiet when stderr is not a terminal)."""
    return click.progressbar(length=length, label=label, file=sys.stderr)


json_option = click.option("--json", "as_json", is_flag=True, help="Ausgabe als JSON.")


@click.group(cls=MatcherGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Datenverzeichnis (Standard: $MATCHER_DATA_DIR oder ./instance).")
@click.version_option(package_name="matcher")
@click.pass_context
def cli(ctx: click.Context, data_dir: str | None) -> None:
    """matcher — Partner, Nähe und Inno-Slam-Line-ups für Sachsens Innovationsakteure.

    Beispiel: matcher --data-dir instance stats
    """
    try:
        settings = load_settings({"data_dir": data_dir})
    except MatcherError as exc:
        raise click.ClickException(exc.message) from exc
    obj = Context(settings)
    ctx.obj = obj
    ctx.call_on_close(obj.close)


from matcher.cli import backup as _backup  # noqa: E402,F401
from matcher.cli import evaluate as _evaluate  # noqa: E402,F401
from matcher.cli import geo as _geo  # noqa: E402,F401
from matcher.cli import indexing as _indexing  # noqa: E402,F401
from matcher.cli import match as _match  # noqa: E402,F401
from matcher.cli import profiles as _profiles  # noqa: E402,F401
from matcher.cli import slam as _slam  # noqa: E402,F401
from matcher.cli import system as _system  # noqa: E402,F401
from matcher.cli import tokens as _tokens  # noqa: E402,F401
from matcher.cli import users as _users  # noqa: E402,F401
from matcher.cli import vocabulary as _vocabulary  # noqa: E402,F401
