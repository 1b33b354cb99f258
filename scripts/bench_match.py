"""Latency of matching: library calls and the CLI, on the demo corpus or a synthetic one.

Writes a table into docs/EVALUATION.md (section "bench_match"). With ``--synthetic N`` a fresh
data directory is filled with N generated profiles and indexed with ``--embedder`` first.

Example: python scripts/bench_match.py --data-dir instance
         python scripts/bench_match.py --synthetic 10000 --embedder use --work /tmp/bench10k
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import click

from matcher.docs import machine_summary, replace_section
from matcher.evaluation import load_eval_set
from matcher.geo import load_gazetteer
from matcher.indexer import build_index
from matcher.ingest import ingest_files
from matcher.search import Matcher
from matcher.settings import load_settings
from matcher.store import Store
from matcher.synthetic import generate_profiles

ROOT = Path(__file__).resolve().parent.parent


def percentiles(ms: list[float]) -> tuple[float, float]:
    ms = sorted(ms)
    return statistics.median(ms), ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]


@click.command()
@click.option("--data-dir", default="instance", show_default=True)
@click.option("--synthetic", type=int, default=0, help="Generate and index N profiles first.")
@click.option("--embedder", default=None, help="Embedder for the synthetic index.")
@click.option("--work", default="/tmp/matcher-bench", show_default=True,
              help="Data directory for --synthetic.")
@click.option("--section", default="bench_match", show_default=True)
@click.option("--label", default=None,
              help="What the data directory holds (default: demo corpus), e.g. for a synthetic "
                   "corpus indexed before.")
def main(data_dir: str, synthetic: int, embedder: str | None, work: str, section: str,
         label: str | None) -> None:
    """Measure p50/p95 of text and profile matching (library) and of `matcher match` (CLI)."""
    overrides = {"data_dir": work if synthetic else data_dir}
    if embedder:
        overrides["embedder"] = embedder
    settings = load_settings(overrides)
    gaz = load_gazetteer()
    eval_set = load_eval_set(ROOT / "corpora" / "eval")
    with Store(settings.data_dir) as store:
        note = label or "demo corpus"
        if synthetic:
            path = Path(work) / "synthetic.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in
                                      generate_profiles(synthetic, gaz)), encoding="utf-8")
            ingest_files(store, [path], gaz)
            note = f"{synthetic:,} synthetic profiles"
        t0 = time.perf_counter()
        build_index(store, settings)
        index_s = time.perf_counter() - t0
        matcher = Matcher(store, settings, gaz)
        texts = [q.text for q in eval_set.queries]
        for t in texts[:3]:
            matcher.match_text(t)  # warm up
        text_ms = []
        for t in texts:
            t0 = time.perf_counter()
            matcher.match_text(t, limit=10)
            text_ms.append((time.perf_counter() - t0) * 1000)
        cached_ms = []
        for t in texts:
            t0 = time.perf_counter()
            matcher.match_text(t, limit=10)
            cached_ms.append((time.perf_counter() - t0) * 1000)
        ids = [pid for pid in (c.profile for c in eval_set.partners)
               if pid in matcher.table.pos]
        partner_cases = bool(ids)
        ids = ids or matcher.table.ids[:30]
        prof_ms = []
        for pid in ids:
            t0 = time.perf_counter()
            matcher.match_profile(pid, limit=10, logged_in=True)
            prof_ms.append((time.perf_counter() - t0) * 1000)
        count = store.count()
    cli_ms = []
    for t in texts[:5]:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "matcher.cli.__main__", "--data-dir",
                        str(settings.data_dir), "match", "--text", t, "--json"], check=True,
                       capture_output=True, env={**os.environ,
                                                 "MATCHER_EMBEDDER": settings.embedder})
        cli_ms.append((time.perf_counter() - t0) * 1000)
    rows = [("text match (library)", text_ms), ("text match, repeated query (library)",
                                                cached_ms),
            ("profile match (library)", prof_ms), ("`matcher match --json` (CLI, whole process)",
                                                   cli_ms)]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [f"{note} ({count:,} profiles, embedder `{settings.embedder}`), measured "
             f"{dt.date.today()} on {machine_summary()}, load average {load} at the end; "
             f"index up to date in {index_s:.1f} s "
             "before measuring; queries = the 66 eval queries, profiles = "
             + (f"the {len(ids)} partner cases." if partner_cases
                else f"the first {len(ids)} profiles of the corpus."),
             "", "| call | n | p50 ms | p95 ms |", "|---|---|---|---|"]
    for label, ms in rows:
        p50, p95 = percentiles(ms)
        lines.append(f"| {label} | {len(ms)} | {p50:.1f} | {p95:.1f} |")
        click.echo(lines[-1], err=True)
    replace_section(ROOT / "docs" / "EVALUATION.md", section, "\n".join(lines))


if __name__ == "__main__":
    main()
