"""CLI command ``eval``: score a retrieval configuration on judged queries."""

from __future__ import annotations

import click

from matcher.cli import Context, cli, echo_json, json_option

METHOD_HELP = ("Verfahren: keyword (FTS5/BM25), dense, sparse, hybrid (dense + sparse), "
               "hybrid+keyword.")


@cli.command("eval")
@click.option("--set", "eval_dir", default="corpora/eval", show_default=True,
              type=click.Path(exists=True, file_okay=False), help="Ordner mit dem Testset.")
@click.option("--method", default="keyword", show_default=True, help=METHOD_HELP)
@click.option("--per-query", is_flag=True, help="Auch nDCG@10 je Anfrage ausgeben.")
@json_option
@click.pass_obj
def eval_cmd(obj: Context, eval_dir: str, method: str, per_query: bool, as_json: bool) -> None:
    """Rangfolge auf bewerteten Anfragen messen: nDCG@10, MRR, Recall@20 je Gruppe.

    Beispiel: matcher eval --method keyword --json
    """
    from matcher.evaluation import evaluate, load_eval_set
    from matcher.rankers import make_rankers

    eval_set = load_eval_set(eval_dir)
    rank, rank_profile = make_rankers(method, obj.store, obj.settings)
    report = evaluate(method, eval_set, rank, rank_profile, obj.store.get, obj.gazetteer,
                      obj.settings.regions)
    data = report.as_dict()
    if as_json:
        if not per_query:
            data.pop("per_query_ndcg@10")
        echo_json(data)
        return
    click.echo(f"Verfahren: {method}   ({eval_dir})")
    click.echo(f"{'Gruppe':<18} {'n':>4} {'nDCG@10':>8} {'MRR':>7} {'R@20':>7}")
    for name, g in data["groups"].items():
        click.echo(f"{name:<18} {g['n']:>4} {g['ndcg@10']:>8.3f} {g['mrr']:>7.3f} "
                   f"{g['recall@20']:>7.3f}")
    if per_query:
        for qid, v in data["per_query_ndcg@10"].items():
            click.echo(f"  {qid:<8} {v:.3f}")
