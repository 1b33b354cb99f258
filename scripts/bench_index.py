"""Exact (flat) vs approximate (HNSW) FAISS search: where does the approximate index pay?

Clustered synthetic unit vectors of the default model's dimension; recall@20 of HNSW against
flat on the same vectors. Writes a table into docs/EVALUATION.md (section "bench_index").

Example: python scripts/bench_index.py --sizes 10000,30000,100000 --dim 896
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from pathlib import Path

import click
import numpy as np

from matcher.docs import machine_summary, replace_section
from matcher.embed.base import l2_normalize
from matcher.index.faiss_index import FaissIndex

ROOT = Path(__file__).resolve().parent.parent


def vectors(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(max(n // 200, 20), dim)).astype(np.float32)
    v = centres[rng.integers(0, len(centres), n)] + 0.5 * rng.normal(size=(n, dim)).astype(
        np.float32)
    return l2_normalize(v)


def timed_queries(index: FaissIndex, queries: np.ndarray, k: int) -> tuple[float, np.ndarray]:
    times, found = [], []
    for q in queries:
        t0 = time.perf_counter()
        _, ids = index.search(q, k)
        times.append((time.perf_counter() - t0) * 1000)
        found.append(ids[0])
    return statistics.median(times), np.array(found)


@click.command()
@click.option("--sizes", default="10000,30000,100000", show_default=True)
@click.option("--dim", default=896, show_default=True, help="896 = e5 (384) + USE (512).")
@click.option("--ef", default="256,512,1024", show_default=True, help="efSearch values to try.")
@click.option("--queries", "n_queries", default=200, show_default=True)
def main(sizes: str, dim: int, ef: str, n_queries: int) -> None:
    """Measure flat and HNSW query latency, recall@20 and build time per corpus size."""
    lines = [f"Measured {dt.date.today()} on {machine_summary()}; {dim}-d clustered synthetic "
             f"unit vectors, {n_queries} queries, k = 20, one query at a time (median latency); "
             "HNSW M = 32, efConstruction = 200.", "",
             "| vectors | flat ms | HNSW efSearch | HNSW ms | recall@20 | HNSW build s |",
             "|---|---|---|---|---|---|"]
    for n in (int(x) for x in sizes.split(",")):
        data = vectors(n, dim, 1)
        queries = vectors(n_queries, dim, 2)
        ids = np.arange(n, dtype=np.int64)
        flat = FaissIndex(dim)
        flat.add(ids, data)
        flat_ms, truth = timed_queries(flat, queries, 20)
        t0 = time.perf_counter()
        hnsw = FaissIndex(dim, kind="hnsw")
        hnsw.add(ids, data)
        build_s = time.perf_counter() - t0
        for e in (int(x) for x in ef.split(",")):
            hnsw.ef_search = e
            ms, got = timed_queries(hnsw, queries, 20)
            recall = np.mean([len(set(a) & set(b)) / 20 for a, b in zip(got, truth, strict=True)])
            lines.append(f"| {n:,} | {flat_ms:.2f} | {e} | {ms:.2f} | {recall:.3f} | "
                         f"{build_s:.0f} |")
            click.echo(lines[-1], err=True)
    replace_section(ROOT / "docs" / "EVALUATION.md", "bench_index", "\n".join(lines))


if __name__ == "__main__":
    main()
