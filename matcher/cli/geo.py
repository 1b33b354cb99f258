"""CLI command ``geo``: resolve Saxon place names and measure distances."""

from __future__ import annotations

import click

from matcher.cli import Context, cli, echo_json, json_option
from matcher.geo import distance_km


@cli.command()
@click.argument("place")
@click.option("--to", "other", default=None, help="Zweiter Ort: Entfernung in km ausgeben.")
@json_option
@click.pass_obj
def geo(obj: Context, place: str, other: str | None, as_json: bool) -> None:
    """Ort in Sachsen nachschlagen: Koordinaten und Kreis.

    Beispiel: matcher geo "Oelsnitz/Erzgeb." --to Chemnitz
    """
    gaz = obj.gazetteer
    p = gaz.resolve(place)
    data = p.as_dict()
    if other:
        q = gaz.resolve(other)
        data["to"] = q.as_dict()
        data["distance_km"] = round(distance_km(p.lat, p.lon, q.lat, q.lon), 1)
    if as_json:
        echo_json(data)
        return
    click.echo(f"{p.label} — {p.district} ({p.lat:.4f}, {p.lon:.4f})")
    if other:
        click.echo(f"Entfernung nach {data['to']['name']}: {data['distance_km']:.1f} km "
                   "(Luftlinie)")
