"""CLI commands for profiles: ingest, remove, stats, show."""

from __future__ import annotations

from pathlib import Path

import click

from matcher.cli import Context, cli, echo_json, json_option, progress
from matcher.models import KIND_LABELS

IMPORT_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv")


def expand_paths(paths: tuple[str, ...]) -> list[Path]:
    """Files as given; directories become their import files in name order."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out.extend(sorted(f for f in p.iterdir() if f.suffix.lower() in IMPORT_SUFFIXES))
        else:
            out.append(p)
    return out


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--skip-invalid", is_flag=True,
              help="Gültige Datensätze importieren, ungültige mit Grund in eine Datei schreiben.")
@click.option("--rejects", type=click.Path(dir_okay=False), default=None,
              help="Datei für abgelehnte Datensätze (Standard: <data-dir>/rejects-<Zeit>.jsonl).")
@click.option("--allow-outside", is_flag=True, default=None,
              help="Koordinaten außerhalb Sachsens zulassen.")
@json_option
@click.pass_obj
def ingest(obj: Context, paths: tuple[str, ...], skip_invalid: bool, rejects: str | None,
           allow_outside: bool | None, as_json: bool) -> None:
    """Profile aus JSONL-, JSON- oder CSV-Dateien (oder Ordnern) importieren.

    Ohne --skip-invalid wird alles oder nichts importiert.

    Beispiel: matcher ingest corpora/saxony
    """
    from matcher.ingest import count_records, ingest_files

    files = expand_paths(paths)
    if not files:
        raise click.ClickException("Keine Importdateien gefunden (.jsonl, .json, .csv).")
    outside = obj.settings.allow_outside if allow_outside is None else allow_outside
    with progress(count_records(files), "Prüfe Datensätze") as bar:
        report = ingest_files(obj.store, files, obj.gazetteer, allow_outside=outside,
                              skip_invalid=skip_invalid, rejects_path=rejects,
                              progress=bar.update)
    for warning in report.warnings:
        click.echo(f"Warnung: {warning}", err=True)
    if as_json:
        echo_json(report.as_dict())
        return
    click.echo(f"{report.read} Datensätze gelesen: {report.inserted} neu, "
               f"{report.updated} geändert, {report.unchanged} unverändert, "
               f"{len(report.rejected)} abgelehnt.")
    if report.rejects_path:
        click.echo(f"Abgelehnte Datensätze mit Gründen: {report.rejects_path}")
        for r in report.rejected:
            for p in r.problems:
                click.echo(f"  {p}", err=True)


@cli.command()
@click.argument("ids", nargs=-1, required=True)
@click.option("--with-children", is_flag=True,
              help="Auch Profile löschen, die dieses als parent nennen.")
@json_option
@click.pass_obj
def remove(obj: Context, ids: tuple[str, ...], with_children: bool, as_json: bool) -> None:
    """Profile mit allen abgeleiteten Daten löschen.

    Beispiel: matcher remove co-w-001 co-w-002
    """
    from matcher.profiles import delete_profiles

    removed = delete_profiles(obj.store, ids, with_children=with_children)
    if as_json:
        echo_json({"removed": removed})
    else:
        click.echo(f"{len(removed)} Profil(e) gelöscht: {', '.join(removed)}")


@cli.command()
@json_option
@click.pass_obj
def stats(obj: Context, as_json: bool) -> None:
    """Anzahl der Profile gesamt, je Art und je Kreis.

    Beispiel: matcher stats --json
    """
    data = obj.store.stats()
    if as_json:
        echo_json(data)
        return
    click.echo(f"Profile gesamt: {data['total']}")
    click.echo("\nNach Art:")
    for kind, n in data["by_kind"].items():
        click.echo(f"  {KIND_LABELS.get(kind, kind):<44} {n:>5}")
    click.echo("\nNach Kreis:")
    for district, n in data["by_district"].items():
        click.echo(f"  {district:<44} {n:>5}")


FIELD_LABELS = {
    "id": "ID", "kind": "Art", "name": "Name", "description": "Beschreibung", "city": "Ort",
    "district": "Kreis", "postcode": "PLZ", "street": "Straße", "lat": "Breite", "lon": "Länge",
    "offers": "Bietet", "needs": "Sucht", "keywords": "Schlagworte", "institution": "Einrichtung",
    "parent": "Gehört zu", "career_stage": "Karrierestufe", "category": "Kategorie",
    "gender": "Geschlecht", "employees": "Beschäftigte", "founded": "Gegründet",
    "website": "Website", "email": "E-Mail", "phone": "Telefon", "visibility": "Sichtbarkeit",
}


@cli.command()
@click.argument("profile_id")
@json_option
@click.pass_obj
def show(obj: Context, profile_id: str, as_json: bool) -> None:
    """Ein Profil mit allen Feldern anzeigen.

    Beispiel: matcher show ch-a-01
    """
    record = obj.store.get(profile_id).to_record()
    if as_json:
        echo_json(record)
        return
    for key, value in record.items():
        if key == "kind":
            value = KIND_LABELS.get(value, value)
        if isinstance(value, list):
            value = ", ".join(map(str, value))
        label = FIELD_LABELS.get(key, key)
        click.echo(f"{label + ':':<15} {value}")
