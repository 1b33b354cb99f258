"""CLI command ``match``: partners for a profile or a free-text request."""

from __future__ import annotations

import textwrap

import click

from matcher.cli import Context, cli, echo_json, json_option
from matcher.models import KIND_LABELS, KINDS


def parse_kinds(raw: str | None) -> tuple[str, ...] | None:
    if not raw:
        return None
    kinds = tuple(k.strip().lower() for k in raw.split(",") if k.strip())
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise click.BadParameter(f"unbekannte Art(en) {', '.join(bad)} — erlaubt: "
                                 + ", ".join(KINDS), param_hint="--kinds")
    return kinds


@cli.command()
@click.option("--profile", "profile_id", default=None, help="Partner für dieses Profil (ID).")
@click.option("--text", default=None, help="Freitext: was oder wen Sie suchen.")
@click.option("--near", default=None, help="Ort, um den gesucht wird (z. B. Freiberg).")
@click.option("--lat", type=float, default=None, help="Breitengrad statt --near.")
@click.option("--lon", type=float, default=None, help="Längengrad statt --near.")
@click.option("--radius-km", type=float, default=None, help="Harter Umkreis in km.")
@click.option("--kinds", default=None,
              help="Arten, kommagetrennt: company, startup, chair, researcher, tgz, offering.")
@click.option("--region", default=None, help="Kreis oder eigene Region (z. B. Lausitz).")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True,
              help="Anzahl der Treffer.")
@click.option("--offset", type=click.IntRange(0, 10_000), default=0, help="Treffer überspringen.")
@click.option("--internal", is_flag=True,
              help="Auch interne Profile zeigen (wie für angemeldete Nutzer).")
@json_option
@click.pass_obj
def match(obj: Context, profile_id: str | None, text: str | None, near: str | None,
          lat: float | None, lon: float | None, radius_km: float | None, kinds: str | None,
          region: str | None, limit: int, offset: int, internal: bool, as_json: bool) -> None:
    """Passende Partner in der Nähe finden, mit Begründung.

    Beispiel: matcher match --text "Lehrstuhl für Oberflächentechnik, 40 km um Freiberg"

    Beispiel: matcher match --profile co-w-001 --limit 5 --json
    """
    from matcher.search import Matcher

    if bool(profile_id) == bool(text):
        raise click.UsageError("Bitte genau eines angeben: --profile ID oder --text TEXT.")
    if (lat is None) != (lon is None):
        raise click.UsageError("--lat und --lon nur gemeinsam angeben.")
    kind_list = parse_kinds(kinds)
    matcher = Matcher(obj.store, obj.settings, obj.gazetteer)
    if profile_id:
        result = matcher.match_profile(profile_id, limit=limit, offset=offset,
                                       radius_km=radius_km, kinds=kind_list,
                                       region=region, logged_in=internal)
    else:
        result = matcher.match_text(text or "", near=near, lat=lat, lon=lon, radius_km=radius_km,
                                    kinds=kind_list, region=region, limit=limit,
                                    offset=offset, logged_in=internal)
    data = result.as_dict()
    if as_json:
        echo_json(data["results"])
        return
    if result.parsed is not None:
        click.echo(result.parsed.interpretation())
        for note in result.parsed.notes:
            click.echo(f"Hinweis: {note}")
    if result.source is not None:
        click.echo(f"Partner für {result.source.name} ({KIND_LABELS[result.source.kind]})")
    if not result.matches:
        click.echo("Keine passenden Profile gefunden.")
    for n, r in enumerate(data["results"], start=offset + 1):
        dist = "" if r["distance_km"] is None else f" · {r['distance_km']:.0f} km"
        click.echo(f"\n{n:>2}. {r['name']}  [{KIND_LABELS[r['kind']]}]  {r['score']}/100")
        click.echo(f"    {r['city'] or '–'} · {r['district'] or '–'}{dist}")
        click.echo(textwrap.fill(r["why"]["summary"], width=96, initial_indent="    ",
                                 subsequent_indent="    "))
