"""CLI commands for API tokens of machine clients: ``matcher token create/list/revoke``."""

from __future__ import annotations

import click

from matcher.cli import Context, cli, echo_json, json_option
from matcher.tokens import SCOPES


@cli.group()
def token() -> None:
    """API-Tokens für Maschinen-Clients verwalten (Profile per API anlegen, ändern, löschen).

    Beispiel: matcher token create "CRM-Abgleich" --scope profiles:write --expires-days 90
    """


@token.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(list(SCOPES)),
              help="Geltungsbereich, mehrfach möglich: profiles:write (anlegen, ändern, löschen), "
                   "profiles:read-internal (interne Profile und Kontaktdaten lesen).")
@click.option("--expires-days", type=float, default=None,
              help="Gültigkeit in Tagen (ohne Angabe: bis zum Widerruf).")
@json_option
@click.pass_obj
def create(obj: Context, name: str, scopes: tuple[str, ...], expires_days: float | None,
           as_json: bool) -> None:
    """Ein Token anlegen; es wird nur jetzt angezeigt und nur als SHA-256 gespeichert.

    Beispiel: matcher token create "CRM-Abgleich" --scope profiles:write
    """
    from matcher.tokens import Tokens

    secret, info = Tokens(obj.store).create(name, scopes, expires_in_days=expires_days)
    if as_json:
        echo_json({"token": secret, **info.as_dict()})
        return
    click.echo(f"Token {info.id} ({info.name}) angelegt — jetzt kopieren, es wird nicht wieder "
               "angezeigt:")
    click.echo(secret)
    click.echo("Verwendung: Authorization: Bearer <Token>")


@token.command("list")
@json_option
@click.pass_obj
def list_tokens(obj: Context, as_json: bool) -> None:
    """Alle Tokens mit Geltungsbereich, Ablauf und letzter Nutzung (ohne Geheimnis).

    Beispiel: matcher token list --json
    """
    from matcher.tokens import Tokens

    tokens = Tokens(obj.store).list()
    if as_json:
        echo_json([t.as_dict() for t in tokens])
        return
    if not tokens:
        click.echo("Keine Tokens. Anlegen mit: matcher token create NAME --scope profiles:write")
    for t in tokens:
        state = ("widerrufen " + (t.revoked_at or "") if t.revoked_at else
                 "aktiv" if t.active() else "abgelaufen")
        click.echo(f"{t.id:>4}  {t.prefix}…  {t.name}  [{', '.join(t.scopes)}]  {state}  "
                   f"läuft ab: {t.expires_at or 'nie'}  zuletzt: {t.last_used_at or 'nie'}")


@token.command("revoke")
@click.argument("token_id", type=int)
@json_option
@click.pass_obj
def revoke(obj: Context, token_id: int, as_json: bool) -> None:
    """Ein Token endgültig widerrufen (Nummer aus 'matcher token list').

    Beispiel: matcher token revoke 3
    """
    from matcher.tokens import Tokens

    info = Tokens(obj.store).revoke(token_id)
    if as_json:
        echo_json(info.as_dict())
        return
    click.echo(f"Token {info.id} ({info.name}) widerrufen.")
