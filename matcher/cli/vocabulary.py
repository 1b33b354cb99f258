"""CLI command ``vocabulary``: check a problem vocabulary and see which fields a text fires."""

from __future__ import annotations

import click

from matcher.cli import Context, cli, echo_json, json_option
from matcher.vocabulary import BUNDLED, load_vocabulary


@cli.command()
@click.argument("text", required=False)
@click.option("--file", "path", default=None, type=click.Path(dir_okay=False),
              help="Vokabular-Datei (Standard: Einstellung vocabulary_file, sonst das "
                   "mitgelieferte).")
@json_option
@click.pass_obj
def vocabulary(obj: Context, text: str | None, path: str | None, as_json: bool) -> None:
    """Problem-Vokabular prüfen; mit TEXT: welche Fachgebiete eine Anfrage auslöst.

    Beispiel: matcher vocabulary "Beim Schweißen verzieht sich das Blech"
    """
    path = path if path is not None else str(obj.settings.vocabulary_file)
    vocab = load_vocabulary(path)
    name = path or f"matcher/{BUNDLED}"
    data: dict = {"file": name, "fields": len(vocab.fields),
                  "triggers": sum(len(f.triggers) for f in vocab.fields),
                  "terms": sum(len(f.terms) for f in vocab.fields)}
    if text is not None:
        data["fired"] = [{"field": vocab.fields[i].name,
                          "triggers": vocab.fired_triggers(text, i),
                          "terms": list(vocab.fields[i].terms)} for i in vocab.fired(text)]
    if as_json:
        echo_json(data)
        return
    click.echo(f"Vokabular {name}: {data['fields']} Fachgebiete, {data['triggers']} Auslöser, "
               f"{data['terms']} Fachbegriffe – gültig.")
    if text is None:
        return
    if not data["fired"]:
        click.echo("Kein Fachgebiet ausgelöst.")
        return
    for f in data["fired"]:
        click.echo(f"• {f['field']} (ausgelöst durch: {', '.join(f['triggers'])})")
        click.echo(f"  Fachbegriffe: {', '.join(f['terms'])}")
    click.echo("Die Suche verwendet davon nur Fachgebiete, die der Anfrage auch inhaltlich nahe "
               "sind (Einstellung expansion_rank_share).")
