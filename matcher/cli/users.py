"""CLI commands for accounts of the introductions workspace: ``matcher user add/remove/list``."""

from __future__ import annotations

import click

from matcher.accounts import ROLE_LABELS, ROLES
from matcher.cli import Context, cli, echo_json, json_option


@cli.group()
def user() -> None:
    """Konten für den Vorstellungs-Arbeitsbereich verwalten.

    Beispiel: matcher user add anna --role manager --name "Anna Krause"
    """


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="Rolle: manager (Innovationsmanagement), organiser, admin.")
@click.option("--name", "display_name", default="", help="Anzeigename, z. B. 'Anna Krause'.")
@click.option("--email", default="", help="E-Mail-Adresse (Absender in Entwürfen).")
@click.password_option("--password", help="Passwort (mind. 10 Zeichen); ohne Angabe wird "
                       "es abgefragt.")
@json_option
@click.pass_obj
def add(obj: Context, username: str, role: str, display_name: str, email: str, password: str,
        as_json: bool) -> None:
    """Ein Konto anlegen; das Passwort wird abgefragt und nur als scrypt-Hash gespeichert.

    Beispiel: matcher user add anna --role manager --name "Anna Krause"
    """
    from matcher.accounts import Accounts

    created = Accounts(obj.store).add(username, password, role, display_name=display_name,
                                      email=email)
    if as_json:
        echo_json(created.as_dict())
        return
    click.echo(f"Konto {created.username} angelegt ({ROLE_LABELS[created.role]}).")


@user.command("remove")
@click.argument("username")
@click.option("--reassign", default=None,
              help="Merklisten und Vorstellungen an dieses Konto übertragen.")
@click.pass_obj
def remove(obj: Context, username: str, reassign: str | None) -> None:
    """Ein Konto löschen (seine Arbeit vorher mit --reassign übertragen).

    Beispiel: matcher user remove anna --reassign ben
    """
    from matcher.accounts import Accounts

    Accounts(obj.store).remove(username, reassign_to=reassign)
    click.echo(f"Konto {username} gelöscht." + (f" Arbeit an {reassign} übertragen."
                                                if reassign else ""))


@user.command("list")
@json_option
@click.pass_obj
def list_users(obj: Context, as_json: bool) -> None:
    """Alle Konten mit Rolle.

    Beispiel: matcher user list --json
    """
    from matcher.accounts import Accounts

    users = Accounts(obj.store).list()
    if as_json:
        echo_json([u.as_dict() for u in users])
        return
    if not users:
        click.echo("Noch keine Konten — anlegen mit: matcher user add NAME --role manager")
    for u in users:
        click.echo(f"{u.username:<20} {ROLE_LABELS[u.role]:<24} {u.display_name}")
