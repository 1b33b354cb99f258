"""CLI commands about the installation: settings and regions."""

from __future__ import annotations

import click

from matcher.cli import Context, cli, echo_json, json_option
from matcher.settings import SETTINGS


@cli.command("settings")
@json_option
@click.pass_obj
def settings_cmd(obj: Context, as_json: bool) -> None:
    """Alle Einstellungen mit aktuellem Wert, Umgebungsvariable und Erklärung.

    Beispiel: MATCHER_DATA_DIR=/srv/matcher matcher settings
    """
    values = obj.settings.as_dict()
    rows = [{"name": s.name, "env": s.env_var, "value": values[s.name], "default": s.default,
             "help": s.help} for s in SETTINGS]
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        click.echo(f"{r['name']} ({r['env']}) = {r['value']!r}\n    {r['help']}")


@cli.command()
@json_option
@click.pass_obj
def regions(obj: Context, as_json: bool) -> None:
    """Die 13 Kreise und die eigenen Regionen aus den Einstellungen.

    Beispiel: matcher regions --json
    """
    from matcher.regions import all_regions

    found = all_regions(obj.settings.regions, obj.gazetteer)
    if as_json:
        echo_json([r.as_dict() for r in found])
        return
    for r in found:
        extent = (", ".join(r.districts) if r.districts
                  else f"Umkreis {r.radius_km:g} km")
        click.echo(f"{r.name:<45} {extent}")
