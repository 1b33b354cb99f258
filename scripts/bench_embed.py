"""Embedding backends side by side: STS-B de Spearman, profiles/s, query latency, memory.

Writes a table into docs/EVALUATION.md (section "bench_embed"). Each backend runs in its own
process so that its peak RSS is its own.

Example: python scripts/bench_embed.py --backends e5,use,e5+use,minilm,tfidf
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import click
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
STS = ROOT.parent / "shared" / "data"
DOC = ROOT / "docs" / "EVALUATION.md"


def sts_pairs(split: str) -> tuple[list[str], list[str], np.ndarray]:
    with open(STS / f"stsb-de-{split}.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return [r[0] for r in rows], [r[1] for r in rows], np.array([float(r[2]) for r in rows])


def corpus_texts(n: int) -> list[str]:
    from matcher.models import Profile
    from matcher.text import profile_text

    texts = []
    for f in sorted((ROOT / "corpora" / "saxony").glob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            if rec["kind"] == "company":
                texts.append(profile_text(Profile(**{k: rec.get(k) for k in (
                    "id", "kind", "name", "description", "offers", "needs")},
                    keywords=rec.get("keywords", []))))
    return texts[:n]


def measure(backend: str, split: str, n_docs: int) -> dict:
    """Run in a child process: returns the figures of one backend."""
    from scipy.stats import spearmanr

    a, b, gold = sts_pairs(split)
    docs = corpus_texts(n_docs)
    t0 = time.perf_counter()
    if backend == "tfidf":
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        vec.fit(a + b + docs)

        def encode(texts: list[str]) -> np.ndarray:
            m = vec.transform(texts)
            return np.asarray(m.toarray(), dtype=np.float32) / np.maximum(
                np.linalg.norm(m.toarray(), axis=1, keepdims=True), 1e-9)

        enc_q = enc_d = encode
        model_id = "tfidf-char-3-5"
    else:
        from matcher.embed import create_embedder
        from matcher.settings import load_settings

        emb = create_embedder(load_settings(environ={}), backend)
        enc_q, enc_d, model_id = emb.encode_queries, emb.encode_documents, emb.model_id
    load_s = time.perf_counter() - t0
    # STS is symmetric: both sides as queries (chosen on the dev split).
    va, vb = enc_q(a), enc_q(b)
    rho = float(spearmanr((va * vb).sum(axis=1), gold).statistic)
    t0 = time.perf_counter()
    enc_d(docs)
    per_s = len(docs) / (time.perf_counter() - t0)
    lat = []
    for q in ["Wer hilft uns beim Laserschweißen dünner Bleche?"] * 3 + a[:40]:
        t0 = time.perf_counter()
        enc_q([q])
        lat.append((time.perf_counter() - t0) * 1000)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    words = statistics.mean(len(d.split()) for d in docs)
    return {"backend": backend, "model_id": model_id, "split": split, "spearman": round(rho, 3),
            "profiles_per_s": round(per_s, 1), "words_per_profile": round(words),
            "query_ms_p50": round(statistics.median(lat[3:]), 2), "rss_mb": round(rss_mb),
            "load_s": round(load_s, 2)}


@click.command()
@click.option("--backends", default="e5,use,e5+use,minilm,tfidf", show_default=True)
@click.option("--split", default="test", type=click.Choice(["dev", "test"]), show_default=True)
@click.option("--docs", "n_docs", default=120, show_default=True, help="Profiles for throughput.")
@click.option("--child", default=None, hidden=True)
def main(backends: str, split: str, n_docs: int, child: str | None) -> None:
    """Benchmark embedding backends and write docs/EVALUATION.md (section bench_embed)."""
    if child:
        print(json.dumps(measure(child, split, n_docs)))
        return
    if not (STS / f"stsb-de-{split}.csv").exists():
        raise click.ClickException(f"{STS} fehlt — STS-B de liegt in ../shared/data.")
    from matcher.docs import machine_summary, replace_section

    rows = []
    for backend in backends.split(","):
        click.echo(f"… {backend}", err=True)
        out = subprocess.run([sys.executable, __file__, "--child", backend, "--split", split,
                              "--docs", str(n_docs)], capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        click.echo(json.dumps(rows[-1], ensure_ascii=False))
    lines = [
        f"Measured {dt.date.today()} on {machine_summary()}; STS-B de {split} split "
        f"({len(sts_pairs(split)[2])} pairs, Spearman of cosine vs gold); throughput on "
        f"{n_docs} demo company profiles (~{rows[0]['words_per_profile']} words); query latency "
        "= median of 40 single-sentence queries; RSS = peak of the benchmark process.",
        "",
        "| backend | model | STS-B de Spearman | profiles/s | one query (ms) | RSS (MB) |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {r['backend']} | `{r['model_id']}` | {r['spearman']:.3f} | "
              f"{r['profiles_per_s']:.1f} | {r['query_ms_p50']:.1f} | {r['rss_mb']} |"
              for r in rows]
    replace_section(DOC, "bench_embed", "\n".join(lines))
    click.echo(f"written to {DOC}", err=True)


if __name__ == "__main__":
    main()
