"""Inno Slam line-ups for the 13 Kreise against corpora/eval/slam.jsonl and two baselines.

Writes a table into docs/EVALUATION.md (section "eval_slam").

Example: python scripts/eval_slam.py --data-dir instance
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from pathlib import Path

import click

from matcher.docs import machine_summary, replace_section
from matcher.search import Matcher
from matcher.settings import load_settings
from matcher.slam import SlamOptions, SlamPlanner
from matcher.slam_eval import SlamEvaluator, tour_violations
from matcher.store import Store

ROOT = Path(__file__).resolve().parent.parent


@click.command()
@click.option("--data-dir", default="instance", show_default=True)
@click.option("--expectations", default=str(ROOT / "corpora" / "eval" / "slam.jsonl"))
def main(data_dir: str, expectations: str) -> None:
    """Evaluate line-ups per region and write docs/EVALUATION.md."""
    settings = load_settings({"data_dir": data_dir})
    rows = [json.loads(line) for line in Path(expectations).read_text("utf-8").splitlines()]
    with Store(data_dir) as store:
        planner = SlamPlanner(Matcher(store, settings))
        opts = SlamOptions(size=settings.slam_size,
                           max_per_institution=settings.slam_max_per_institution,
                           max_travel_km=settings.slam_max_travel_km)
        ev = SlamEvaluator(planner, opts)
        scores = [s for r in rows for s in ev.score(r["region"], r["researchers"])]
        tour_opts = SlamOptions(**{**opts.__dict__,
                                   "max_stops_per_person": settings.slam_max_stops_per_person})
        tour = planner.tour(None, tour_opts)
        problems = tour_violations(tour, tour_opts)
    by_method: dict[str, list] = defaultdict(list)
    for s in scores:
        by_method[s.method].append(s)
        click.echo(json.dumps(s.as_dict(), ensure_ascii=False), err=True)
    lines = [f"{len(rows)} regions, {settings.slam_size} speakers each, measured "
             f"{dt.date.today()} on {machine_summary()}. precision = share of speakers the "
             "expectations grade ≥ 1 (good: ≥ 2); coverage = weighted share of each demand "
             "theme's SMEs that a speaker serves (relevance ≥ `slam_covered_at`); random = mean "
             "of 20 seeded draws from the same eligible pool.", "",
             "| method | precision | good | coverage | regions where coverage is best |",
             "|---|---|---|---|---|"]
    regions = sorted({s.region for s in scores})
    best = {r: max(s.coverage for s in scores if s.region == r) for r in regions}
    for method, items in by_method.items():
        n = len(items)
        wins = sum(1 for s in items if s.coverage >= best[s.region] - 1e-9)
        lines.append(f"| {method} | {sum(s.precision for s in items) / n:.3f} | "
                     f"{sum(s.good for s in items) / n:.3f} | "
                     f"{sum(s.coverage for s in items) / n:.3f} | {wins} of {n} |")
    lines += ["", "Per region (precision / coverage):", "",
              "| region | " + " | ".join(by_method) + " |", "|---|" + "---|" * len(by_method)]
    for r in regions:
        cells = [next(f"{s.precision:.2f} / {s.coverage:.2f}" for s in items if s.region == r)
                 for items in by_method.values()]
        lines.append(f"| {r} | " + " | ".join(cells) + " |")
    invited = sum(len(lu.speakers) for lu in tour)
    lines += ["", f"Whole demo tour (13 stops, {invited} invitations): "
              + (f"all constraints hold (size, institutions, travel, professors, at most "
                 f"{settings.slam_max_stops_per_person} stops per person); "
                 f"{invited - len({s.profile.id for lu in tour for s in lu.speakers})} "
                 "re-invitations to close a gap." if not problems
                 else "VIOLATIONS: " + "; ".join(problems))]
    replace_section(ROOT / "docs" / "EVALUATION.md", "eval_slam", "\n".join(lines))
    if problems:
        raise click.ClickException("; ".join(problems))


if __name__ == "__main__":
    main()
