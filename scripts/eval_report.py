"""Run ``matcher eval`` for every retrieval configuration and write the table to the docs.

Switches the index of DATA_DIR between embedding backends (vectors come from the embedding cache
after the first run) and restores the configured default at the end.

Example: python scripts/eval_report.py --data-dir instance
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from matcher.docs import machine_summary, replace_section
from matcher.evaluation import evaluate, load_eval_set
from matcher.geo import load_gazetteer
from matcher.indexer import build_index
from matcher.rankers import make_rankers
from matcher.settings import load_settings
from matcher.store import Store

ROOT = Path(__file__).resolve().parent.parent
# (label, method, embedder or None for the configured default)
CONFIGS = [
    ("keyword baseline (FTS5/BM25)", "keyword", None),
    ("sparse only (char 3–5-gram TF-IDF on lemmas)", "sparse", None),
    ("dense only: USE multilingual v3", "dense", "use"),
    ("dense only: e5-small q4", "dense", "e5"),
    ("dense only: e5 + USE (concatenated)", "dense", "e5+use"),
    ("hybrid (e5 + USE dense, sparse; z-score fusion)", "hybrid", None),
    ("full matching (hybrid + needs↔offers + proximity + kinds)", "full", None),
]
GROUPS = ("all", "tuning", "held_out", "sme", "manager", "organiser", "place", "kinds",
          "partners", "partners_tuning", "partners_held_out")


@click.command()
@click.option("--data-dir", default="instance", show_default=True)
@click.option("--set", "eval_dir", default=str(ROOT / "corpora" / "eval"), show_default=True)
@click.option("--section", default="eval_methods", show_default=True)
def main(data_dir: str, eval_dir: str, section: str) -> None:
    """Evaluate all configurations on the judged set and write docs/EVALUATION.md."""
    base = load_settings({"data_dir": data_dir})
    gaz = load_gazetteer()
    eval_set = load_eval_set(eval_dir)
    rows = []
    with Store(data_dir) as store:
        for label, method, embedder in CONFIGS:
            settings = base.replace(embedder=embedder) if embedder else base
            build_index(store, settings)
            rank, rank_profile = make_rankers(method, store, settings)
            report = evaluate(method, eval_set, rank, rank_profile, store.get, gaz,
                              settings.regions).as_dict()
            rows.append((label, report["groups"]))
            click.echo(json.dumps({"config": label, **report["groups"]["all"]}), err=True)
        build_index(store, base)
    head = ("| configuration | " + " | ".join(g.replace("_", " ") for g in GROUPS)
            + " | MRR (all) | R@20 (all) |")
    lines = [
        f"nDCG@10 per query group on `corpora/eval` ({len(eval_set.queries)} queries, "
        f"{len(eval_set.partners)} profile-to-partner cases); measured {dt.date.today()} on "
        f"{machine_summary()}. Groups: user group of the query, `place` = with place/radius or "
        "region, `kinds` = restricted to kinds, `partners` = profile-to-partner judgments; "
        "`tuning` = even-numbered queries or cases (weights were chosen there), `held out` = "
        "odd-numbered ones.",
        "", head, "|" + "---|" * (len(GROUPS) + 3)]
    for label, g in rows:
        cells = [f"{g[k]['ndcg@10']:.3f}" if k in g else "–" for k in GROUPS]
        lines.append(f"| {label} | " + " | ".join(cells)
                     + f" | {g['all']['mrr']:.3f} | {g['all']['recall@20']:.3f} |")
    replace_section(ROOT / "docs" / "EVALUATION.md", section, "\n".join(lines))
    click.echo("written to docs/EVALUATION.md", err=True)


if __name__ == "__main__":
    main()
