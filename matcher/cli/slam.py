"""CLI command ``slam``: Inno Slam line-ups per region and whole tours."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from matcher.cli import Context, cli, echo_json, json_option


def _write(path: str, data: str | bytes) -> None:
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    if isinstance(data, bytes):
        tmp.write_bytes(data)
    else:
        tmp.write_text(data, encoding="utf-8")
    tmp.replace(target)


@cli.command()
@click.option("--region", default=None, help="Kreis oder eigene Region (z. B. Erzgebirgskreis).")
@click.option("--near", default=None, help="Statt --region: Umkreis um diesen Ort …")
@click.option("--radius-km", type=float, default=30.0, show_default=True,
              help="… mit diesem Radius in km.")
@click.option("--tour", is_flag=True, help="Eine Station je Kreis (oder je --regions).")
@click.option("--regions", default=None, help="Mit --tour: Regionen, kommagetrennt.")
@click.option("--size", type=click.IntRange(1, 10), default=None,
              help="Anzahl Vortragende (Standard: Einstellung slam_size).")
@click.option("--venue", default=None, help="Veranstaltungsort: Angebots-ID oder Ort.")
@click.option("--date", "date_", default=None, help="Datum und Uhrzeit, z. B. 2027-03-18T18:00.")
@click.option("--max-travel-km", type=float, default=None, help="Längste Anreise in km.")
@click.option("--allow-professors", is_flag=True, help="Auch Professorinnen und Professoren.")
@click.option("--exclude", default="", help="IDs, die nicht eingeladen werden (kommagetrennt).")
@click.option("--pin", default="",
              help="IDs, die auf jeden Fall vortragen (kommagetrennt; z. B. zum Tauschen).")
@click.option("--csv", "csv_path", default=None, help="Line-up als CSV schreiben.")
@click.option("--ics", "ics_path", default=None, help="Termin als .ics schreiben (mit --date).")
@click.option("--html", "html_path", default=None, help="Druckbares Programm als HTML.")
@click.option("--internal", is_flag=True, help="Auch interne Profile (wie angemeldet).")
@json_option
@click.pass_obj
def slam(obj: Context, region: str | None, near: str | None, radius_km: float, tour: bool,
         regions: str | None, size: int | None,
         venue: str | None, date_: str | None, max_travel_km: float | None,
         allow_professors: bool, exclude: str, pin: str, csv_path: str | None, ics_path: str | None,
         html_path: str | None, internal: bool, as_json: bool) -> None:
    """Inno-Slam-Line-up aus dem Bedarf der KMU einer Region zusammenstellen.

    Beispiel: matcher slam --region Erzgebirgskreis --date 2027-03-18T18:00 --ics slam.ics

    Beispiel: matcher slam --near Olbernhau --radius-km 25 --venue Olbernhau

    Beispiel: matcher slam --tour --json
    """
    from matcher.search import Matcher
    from matcher.slam import SlamOptions, SlamPlanner
    from matcher.slam_export import lineup_csv, lineup_html, lineup_ics

    if sum((bool(region), bool(near), tour)) != 1:
        raise click.UsageError("Bitte genau eines angeben: --region NAME, --near ORT oder --tour.")
    start = None
    if date_:
        try:
            start = dt.datetime.fromisoformat(date_)
        except ValueError as exc:
            raise click.BadParameter("Format: 2027-03-18T18:00", param_hint="--date") from exc
    if ics_path and start is None:
        raise click.UsageError("--ics braucht --date.")
    s = obj.settings
    opts = SlamOptions(
        size=size or s.slam_size, max_per_institution=s.slam_max_per_institution,
        max_travel_km=max_travel_km or s.slam_max_travel_km, allow_professors=allow_professors,
        exclude=frozenset(x.strip() for x in exclude.split(",") if x.strip()),
        pinned=tuple(x.strip() for x in pin.split(",") if x.strip()),
        max_stops_per_person=s.slam_max_stops_per_person, venue=venue, logged_in=internal)
    planner = SlamPlanner(Matcher(obj.store, s, obj.gazetteer))
    if tour:
        names = [r.strip() for r in regions.split(",")] if regions else None
        lineups = planner.tour(names, opts)
        if as_json:
            echo_json([lu.as_dict() for lu in lineups])
            return
        for lu in lineups:
            _print(lu.as_dict())
        return
    if near:
        from matcher.regions import circle_region

        lineup = planner.plan(circle_region(near, radius_km, obj.gazetteer), opts)
    else:
        lineup = planner.plan(region or "", opts)
    if csv_path:
        _write(csv_path, lineup_csv(lineup))
    if ics_path and start is not None:
        _write(ics_path, lineup_ics(lineup, start))
    if html_path:
        _write(html_path, lineup_html(lineup, start.date() if start else None))
    if as_json:
        echo_json(lineup.as_dict())
    else:
        _print(lineup.as_dict())


def _print(d: dict) -> None:
    click.echo(f"\nInno Slam {d['region']} — {d['venue']['name']}"
               f"  (Abdeckung {d['coverage'] * 100:.0f} %)")
    click.echo("Themen der Region: " + "; ".join(f"{t['label']} ({len(t['smes'])})"
                                                 for t in d["themes"]))
    for n, sp in enumerate(d["speakers"], 1):
        click.echo(f"  {n}. {sp['name']} — {sp['institution']} ({sp['career_stage']})")
        click.echo(f"     {sp['why']}")
    if d["gaps"]:
        click.echo("Bedarfslücken: " + "; ".join(g["label"] for g in d["gaps"]))
