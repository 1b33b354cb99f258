"""CLI commands ``backup`` and ``restore``."""

from __future__ import annotations

import click

from matcher.cli import Context, cli, echo_json, json_option


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 2**10:.0f} KB"


@cli.command("backup")
@click.argument("target", type=click.Path())
@json_option
@click.pass_obj
def backup_cmd(obj: Context, target: str, as_json: bool) -> None:
    """Datenbank und aktuellen Suchindex in eine Datei sichern (im laufenden Betrieb).

    TARGET ist eine Datei (.tar, .tar.gz) oder ein Ordner, in dem
    matcher-backup-<Zeit>.tar angelegt wird.

    Beispiel: matcher --data-dir instance backup sicherungen/
    """
    from matcher.backup import backup

    report = backup(obj.settings.data_dir, target)
    if as_json:
        echo_json(report.as_dict())
        return
    index = ("mit aktuellem Suchindex" if report.index_current else
             "mit veraltetem Suchindex" if report.index_build else "ohne Suchindex")
    click.echo(f"Gesichert: {report.profiles} Profile {index} → {report.path} "
               f"({_size(report.size_bytes)}, {report.seconds:.1f} s).")


@cli.command("restore")
@click.argument("source", type=click.Path(exists=True))
@click.option("--yes", is_flag=True, help="Ohne Rückfrage überschreiben.")
@json_option
@click.pass_obj
def restore_cmd(obj: Context, source: str, yes: bool, as_json: bool) -> None:
    """Datenbank und Suchindex aus einer Sicherung wiederherstellen.

    SOURCE ist eine Sicherungsdatei oder ein Ordner (dann die neueste
    matcher-backup-*-Datei darin). Die Sicherung wird vollständig geprüft, bevor
    etwas überschrieben wird; schlägt etwas fehl, bleibt der alte Stand erhalten.

    Beispiel: matcher --data-dir instance restore sicherungen/ --yes
    """
    from matcher.backup import restore

    if not yes:
        click.confirm(f"Datenbank und Suchindex in {obj.settings.data_dir} durch die Sicherung "
                      "ersetzen?", abort=True, err=True)
    report = restore(source, obj.settings.data_dir)
    if as_json:
        echo_json(report.as_dict())
        return
    hint = "" if report.index_current else (
        f" Suchindex fehlt oder ist veraltet: bitte 'matcher --data-dir "
        f"{obj.settings.data_dir} index' ausführen.")
    click.echo(f"Wiederhergestellt: {report.profiles} Profile aus {report.path} "
               f"(gesichert {report.created_at}).{hint}")
