"""``matcher-web``: serve the app with the production WSGI server (waitress)."""

from __future__ import annotations

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Adresse.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port.")
@click.option("--data-dir", default=None, help="Datenverzeichnis (Standard: $MATCHER_DATA_DIR).")
@click.option("--threads", default=8, show_default=True, type=int, help="Worker-Threads.")
def main(host: str, port: int, data_dir: str | None, threads: int) -> None:
    """matcher im Produktionsserver (waitress) starten.

    Beispiel: matcher-web --data-dir instance --port 5000
    """
    from waitress import serve

    from webapp import create_app

    app = create_app({"data_dir": data_dir} if data_dir else None)
    click.echo(f"matcher läuft auf http://{host}:{port}/ (Strg+C beendet)")
    serve(app, host=host, port=port, threads=threads)
