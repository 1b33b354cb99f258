"""CLI command ``index``: build or update the search index."""

from __future__ import annotations

from typing import Any

import click

from matcher.cli import Context, cli, echo_json, json_option, progress


@cli.command("index")
@click.option("--force", is_flag=True, help="Neu bauen, auch wenn der Index aktuell ist.")
@click.option("--embedder", default=None,
              help="Embedding-Backend für diesen Lauf (Standard: Einstellung 'embedder').")
@click.option("--ray", "ray_address", default=None, metavar="ADDRESS",
              help="Einbetten auf einem Ray-Cluster (z. B. 'ray://host:10001'); 'local' "
                   "startet einen auf diesem Rechner. Gleiche Vektoren wie ohne.")
@json_option
@click.pass_obj
def index_cmd(obj: Context, force: bool, embedder: str | None, ray_address: str | None,
              as_json: bool) -> None:
    """Suchindex bauen oder inkrementell aktualisieren (Vektoren, Sätze, Volltext).

    Unveränderte Profile werden aus dem Cache genommen, ohne Modellaufruf.

    Beispiel: matcher index  (verteilt: matcher index --ray local)
    """
    from matcher.indexer import build_index

    settings = obj.settings.replace(embedder=embedder) if embedder else obj.settings
    embedders = None
    if ray_address:
        from matcher.distributed import ray_embedders

        embedders = ray_embedders(settings, ray_address)
    bars: dict[str, Any] = {}

    def show(stage: str, done: int, total: int) -> None:
        if stage not in bars:
            bars[stage] = progress(total, f"Einbetten: {stage}").__enter__()
        bar = bars[stage]
        bar.update(done - bar.pos)
        if done >= total:
            bar.__exit__(None, None, None)

    report = build_index(obj.store, settings, progress=show, force=force, embedders=embedders)
    if as_json:
        data = report.as_dict()
        data["manifest"] = {k: v for k, v in data["manifest"].items() if k != "doc_hashes"}
        echo_json(data)
        return
    if report.restamped:
        click.echo(f"Index ist aktuell ({report.profiles} Profile): geändert wurden nur Felder, "
                   f"nach denen nicht gesucht wird ({report.seconds:.2f} s).")
        return
    if report.up_to_date:
        click.echo(f"Index ist aktuell ({report.profiles} Profile, {report.seconds:.2f} s).")
        return
    how = "inkrementell" if report.incremental else "neu gebaut"
    click.echo(
        f"Index {how}: {report.profiles} Profile — {report.embedded} neu eingebettet, "
        f"{report.reused} aus dem Cache; Sätze: {report.sentences_embedded} neu, "
        f"{report.sentences_reused} aus dem Cache; {report.added} hinzugefügt, "
        f"{report.removed} entfernt ({report.seconds:.1f} s).")
