"""Sweep re-ranking settings of the full matching on the judged set, with the tuning discipline.

Every ``NAME=v1,v2,…`` argument varies one setting while the others keep their configured
values (``--product`` tries every combination instead). Each row reports nDCG@10 over all
queries, the tuning half (even-numbered queries), the held-out half (odd-numbered), the user and
filter groups and both halves of the partner cases: choose on "tuning" and "partners tuning",
adopt only what does not hurt the held-out columns (docs/EVALUATION.md).

Models and index are loaded once; only settings read per request can be swept (the weights of
``matcher.search``, not the embedder or the index).

Example: python scripts/eval_sweep.py --data-dir instance competitor_weight=0,0.1,0.2
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import click

from matcher.evaluation import evaluate, load_eval_set
from matcher.rankers import matcher_rankers
from matcher.search import Matcher
from matcher.settings import load_settings
from matcher.store import Store

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = ("all", "tuning", "held_out", "sme", "manager", "organiser", "place", "kinds", "plain",
           "partners", "partners_tuning", "partners_held_out")


def variants(specs: tuple[str, ...], product: bool) -> list[dict[str, str]]:
    """Setting overrides to try: the defaults first, then one setting at a time (or all
    combinations with ``product``)."""
    axes = []
    for spec in specs:
        name, _, values = spec.partition("=")
        if not values:
            raise click.BadParameter(f"{spec!r}: expected NAME=v1,v2,…")
        axes.append([(name.strip(), v.strip()) for v in values.split(",")])
    if product:
        return [{}] + [dict(combo) for combo in itertools.product(*axes)]
    return [{}] + [{name: value} for axis in axes for name, value in axis]


@click.command()
@click.option("--data-dir", default="instance", show_default=True)
@click.option("--set", "eval_dir", default=str(ROOT / "corpora" / "eval"), show_default=True)
@click.option("--product", is_flag=True, help="Every combination instead of one at a time.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per variant.")
@click.argument("specs", nargs=-1, required=True)
def main(data_dir: str, eval_dir: str, product: bool, as_json: bool,
         specs: tuple[str, ...]) -> None:
    """Evaluate the full matching for each settings variant and print a Markdown table."""
    base = load_settings({"data_dir": data_dir})
    eval_set = load_eval_set(eval_dir)
    rows: list[tuple[str, dict[str, Any]]] = []
    with Store(data_dir) as store:
        matcher = Matcher(store, base)
        rank, rank_profile = matcher_rankers(matcher)
        for overrides in variants(specs, product):
            matcher.settings = base.replace(**overrides)
            report = evaluate("full", eval_set, rank, rank_profile, store.get,
                              matcher.gazetteer, base.regions)
            label = ", ".join(f"{k}={v}" for k, v in overrides.items()) or "defaults"
            groups = {g: report.groups[g].as_dict()["ndcg@10"] for g in COLUMNS
                      if g in report.groups}
            rows.append((label, groups))
            if as_json:
                click.echo(json.dumps({"variant": label, **groups}, ensure_ascii=False))
    if as_json:
        return
    click.echo("| variant | " + " | ".join(c.replace("_", " ") for c in COLUMNS) + " |")
    click.echo("|---" * (len(COLUMNS) + 1) + "|")
    for label, groups in rows:
        cells = [f"{groups[c]:.3f}" if c in groups else "–" for c in COLUMNS]
        click.echo(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
