"""``matcher-web``: serve the app with the production WSGI server (waitress)."""

from __future__ import annotations

import threading
from typing import Any

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Adresse.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port.")
@click.option("--data-dir", default=None, help="Datenverzeichnis (Standard: $MATCHER_DATA_DIR).")
@click.option("--threads", default=32, show_default=True, type=int,
              help="Worker-Threads (Cache-Treffer warten so nicht hinter neuen Anfragen).")
def main(host: str, port: int, data_dir: str | None, threads: int) -> None:
    """matcher im Produktionsserver (waitress) starten.

    Beispiel: matcher-web --data-dir instance --port 5000
    """
    from waitress import serve

    from webapp import create_app

    app = create_app({"data_dir": data_dir} if data_dir else None)
    threading.Thread(target=warm_up, args=(app,), name="warm-up", daemon=True).start()
    click.echo(f"matcher läuft auf http://{host}:{port}/ (Strg+C beendet)")
    serve(app, host=host, port=port, threads=threads)


def _first_query(matcher: Any) -> None:
    matcher.vocabulary_vectors()  # encoded once per model and vocabulary, then read from disk
    matcher.match_text("Laserschweißen dünner Bleche", limit=1)


def _region_demand(planner: Any, region: Any) -> None:
    planner.demand(region)


def warm_up(app: Any) -> None:
    """Load models and index and answer one query while the server already accepts requests,
    so the first visitor does not wait for the cold start; then encode the needs of every
    Kreis's SMEs one Kreis at a time (region pages and Inno Slam plans need them) and load the
    models that profile edits embed with."""
    from matcher.errors import MatcherError
    from matcher.regions import district_regions
    from webapp import services

    with app.app_context():
        try:
            services.call(_first_query, cached=False)
            for region in district_regions():
                services.call(_region_demand, region, slam=True, cached=False)
            services.prepare_writes()  # the models an edit embeds with
        except MatcherError as exc:  # e.g. no index yet: the pages say which command fixes it
            click.echo(f"Hinweis: {exc.message}", err=True)
        finally:
            app.extensions["matcher_warm"].set()  # /healthz: "warm": true
