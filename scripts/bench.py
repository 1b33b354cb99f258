"""Performance at scale: ingest, embedding, index build, vector search, matching (library and
HTTP) and memory for synthetic corpora of 1k to 1M profiles.

Each stage writes its figures to ``WORK/results/<size>-<stage>.json`` (with date, machine and
load average); ``write`` renders them into docs/BENCHMARKS.md. Stages:

- ``ingest``: a fresh store from the generated JSONL (profiles/s, database size).
- ``embed``: profiles/s of each backend on a 1,000-profile sample, one and two threads, and two
  Ray workers (size-independent; run it with one size).
- ``index``: ``build_index`` of the size's store (embedder ``--embedder``, one encoder thread);
  time, what was embedded, files on disk.
- ``vectors``: the size's real profile vectors in every index variant: build time, memory,
  p50/p95 of one 120-candidate search, recall@20 against exact search. With ``--derive-from``
  the vectors are the real vectors of a smaller size plus noise (stated in the table).
- ``library``: Matcher calls (text match, profile match, Inno Slam plan) and a profile of one
  text query.
- ``http``: the same through ``matcher-web`` (waitress), and the server's RSS.
- ``memory``: RSS of a process holding the compressed vector index and the profile table.

Example: python scripts/bench.py run --sizes 1000,10000 --stages ingest,index,vectors,library,http
         python scripts/bench.py write
"""

from __future__ import annotations

import cProfile
import datetime as dt
import io
import json
import os
import pstats
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import numpy as np

from matcher.docs import machine_summary

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "BENCHMARKS.md"
SEED = 42
K = 120  # candidates the matcher asks the vector index for
SERVE_THREADS = 1  # FAISS threads while serving (see the thread table in docs/BENCHMARKS.md)
REGIONS = ("Dresden", "Landkreis Zwickau", "Vogtlandkreis")


# -- helpers ------------------------------------------------------------------
def rss_mb(pid: int | str = "self") -> dict[str, float]:
    """Current and peak resident memory of a process (MB)."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        names = {"VmRSS": "rss_mb", "VmHWM": "peak_rss_mb", "RssAnon": "anon_mb",
                 "RssFile": "file_mb"}
        if key in names:
            out[names[key]] = int(value.split()[0]) / 1024
    return out


def pct(ms: list[float]) -> dict[str, float]:
    s = sorted(ms)
    return {"n": len(s), "p50_ms": round(statistics.median(s), 2),
            "p95_ms": round(s[min(len(s) - 1, round(0.95 * (len(s) - 1)))], 2)}


def timed(calls: list[Callable[[], Any]], warm: int = 2) -> dict[str, float]:
    for call in calls[:warm]:
        call()
    ms = []
    for call in calls:
        t0 = time.perf_counter()
        call()
        ms.append((time.perf_counter() - t0) * 1000)
    return pct(ms)


def bench_settings(work: Path, n: int, embedder: str, **extra: Any) -> Any:
    from matcher.settings import load_settings

    return load_settings({"data_dir": str(work / str(n)), "embedder": embedder,
                          "sentence_embedder": "use" if embedder != "hashing" else "hashing",
                          "embed_threads": 1, **extra})


def save(work: Path, n: int | str, stage: str, figures: dict[str, Any]) -> None:
    figures = {**figures, "measured": str(dt.date.today()), "machine": machine_summary(),
               "load_avg": [round(x, 2) for x in os.getloadavg()]}
    out = work / "results" / f"{n}-{stage}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
    click.echo(f"{n} {stage}: {json.dumps(figures, ensure_ascii=False)[:600]}", err=True)


PART = 100_000  # profiles per import file (the importer refuses files over 200 MB)


def corpus(work: Path, n: int) -> list[Path]:
    """The generated corpus of ``n`` profiles as import files of at most ``PART`` lines."""
    from matcher.geo import load_gazetteer
    from matcher.synthetic import generate_profiles

    folder = work / f"syn-{n}"
    done = folder / "DONE"
    if not done.exists():
        folder.mkdir(parents=True, exist_ok=True)
        records = generate_profiles(n, load_gazetteer(), SEED)
        for start in range(0, n, PART):
            lines = (json.dumps(next(records), ensure_ascii=False) + "\n"
                     for _ in range(min(PART, n - start)))
            (folder / f"part-{start // PART:03d}.jsonl").write_text("".join(lines), "utf-8")
        done.touch()
    return sorted(folder.glob("part-*.jsonl"))


def ensure_store(work: Path, n: int) -> None:
    from matcher.geo import load_gazetteer
    from matcher.ingest import ingest_files
    from matcher.store import Store

    with Store(work / str(n)) as store:
        if store.count() != n:
            ingest_files(store, corpus(work, n), load_gazetteer())


def eval_queries() -> list[str]:
    from matcher.evaluation import load_eval_set

    return [q.text for q in load_eval_set(ROOT / "corpora" / "eval").queries]


# -- stages -------------------------------------------------------------------
def stage_ingest(work: Path, n: int, embedder: str) -> dict[str, Any]:
    from matcher.geo import load_gazetteer
    from matcher.ingest import ingest_files
    from matcher.store import Store

    paths = corpus(work, n)
    target = work / f"ingest-{n}"
    shutil.rmtree(target, ignore_errors=True)
    gaz = load_gazetteer()
    with Store(target) as store:
        t0 = time.perf_counter()
        ingest_files(store, paths, gaz)
        seconds = time.perf_counter() - t0
        count = store.count()
    size = sum(f.stat().st_size for f in target.iterdir())
    return {"profiles": count, "seconds": round(seconds, 1),
            "profiles_per_s": round(count / seconds), "db_mb": round(size / 2**20)}


def _sample_texts(count: int) -> list[str]:
    from matcher.geo import load_gazetteer
    from matcher.models import Profile
    from matcher.synthetic import generate_profiles
    from matcher.text import profile_text

    recs = generate_profiles(count + 100, load_gazetteer(), SEED + 1)
    fields = ("id", "kind", "name", "description", "offers", "needs")
    return [profile_text(Profile(**{k: r.get(k) for k in fields}, keywords=r["keywords"]))
            for r in recs][100:]


def stage_embed(work: Path, n: int, embedder: str) -> dict[str, Any]:
    from matcher.embed import create_embedder

    texts = _sample_texts(1000)
    rows = []
    for backend, threads in (("hashing", 0), ("use", 1), ("use", 2), ("e5", 0),
                             ("minilm", 0)):
        settings = bench_settings(work, n, backend, embed_threads=threads)
        emb = create_embedder(settings, backend)
        sample = texts if backend in ("hashing", "use") else texts[:200]
        emb.encode_documents(sample[:16])
        t0 = time.perf_counter()
        emb.encode_documents(sample)
        rows.append({"backend": backend, "threads": threads or "default",
                     "texts": len(sample),
                     "per_s": round(len(sample) / (time.perf_counter() - t0), 1)})
        click.echo(rows[-1], err=True)
    from matcher.distributed import connect, ray_embedders

    ray = connect("local", num_cpus=2)
    emb = ray_embedders(bench_settings(work, n, "use"), "local")("use")
    emb.encode_documents(texts[:64])
    t0 = time.perf_counter()
    vecs = emb.encode_documents(texts)
    rows.append({"backend": "use", "threads": "Ray, 2 workers × 1", "texts": len(texts),
                 "per_s": round(len(texts) / (time.perf_counter() - t0), 1)})
    single = create_embedder(bench_settings(work, n, "use"), "use").encode_documents(texts)
    ray.shutdown()
    words = statistics.mean(len(t.split()) for t in texts)
    return {"rows": rows, "words_per_text": round(words),
            "ray_max_abs_diff": float(np.abs(vecs - single).max())}


def stage_index(work: Path, n: int, embedder: str) -> dict[str, Any]:
    from matcher.indexer import build_index
    from matcher.store import Store

    ensure_store(work, n)
    settings = bench_settings(work, n, embedder)
    with Store(settings.data_dir) as store:
        t0 = time.perf_counter()
        report = build_index(store, settings, force=True)
        seconds = time.perf_counter() - t0
    build = Path(report.manifest["path"])
    files = {f.name: round(f.stat().st_size / 2**20, 1) for f in build.iterdir()}
    return {"seconds": round(seconds, 1), "embedded": report.embedded,
            "from_cache": report.reused, "sentences_embedded": report.sentences_embedded,
            "sentences_from_cache": report.sentences_reused, "files_mb": files,
            "embedder": embedder, "index_kind": report.manifest["index_kind"]}


def _vectors_of(work: Path, n: int, embedder: str) -> tuple[np.ndarray, np.ndarray]:
    from matcher.indexer import load_index
    from matcher.store import Store

    settings = bench_settings(work, n, embedder)
    with Store(settings.data_dir) as store:
        loaded = load_index(store, settings)
        ids = loaded.docs.ids()
        return ids, np.asarray(loaded.docs.vectors(ids), dtype=np.float32)


def derive(vectors: np.ndarray, n: int, noise: float) -> np.ndarray:
    """``n`` vectors: the given real ones, then copies with Gaussian noise of norm ≈ ``noise``,
    renormalised (for sizes whose real embedding is not affordable here)."""
    from matcher.embed.base import l2_normalize

    rng = np.random.default_rng(SEED)
    parts, have = [vectors], len(vectors)
    while have < n:
        block = vectors[: min(len(vectors), n - have)]
        jitter = rng.standard_normal(block.shape, dtype=np.float32) * (
            noise / np.sqrt(block.shape[1]))
        parts.append(l2_normalize(block + jitter))
        have += len(block)
    return np.ascontiguousarray(np.vstack(parts)[:n])


def _search_ms(index: Any, queries: np.ndarray, allowed: np.ndarray | None = None,
               k: int = K) -> tuple[dict[str, float], np.ndarray]:
    found = []
    for q in queries[:3]:
        index.search(q, k, allowed)
    ms = []
    for q in queries:
        t0 = time.perf_counter()
        _, ids = index.search(q, k, allowed)
        ms.append((time.perf_counter() - t0) * 1000)
        found.append(ids[0])
    return pct(ms), np.array(found)


def _recall(got: np.ndarray, truth: np.ndarray, k: int = 20) -> float:
    return round(float(np.mean([len(set(g[:k]) & set(t[:k])) / k
                                for g, t in zip(got, truth, strict=True)])), 4)


def _bytes(index: Any) -> int:
    import faiss

    return int(faiss.serialize_index(index._index).nbytes)


def stage_vectors(work: Path, n: int, embedder: str, derive_from: int = 0,
                  noise: float = 0.3) -> dict[str, Any]:
    from matcher.embed import create_embedder
    from matcher.index.faiss_index import FaissIndex
    from matcher.index.quantized import QuantizedIndex, choose_nlist

    if derive_from:
        _, real = _vectors_of(work, derive_from, embedder)
        vecs = derive(real, n, noise)
        ids = np.arange(1, n + 1, dtype=np.int64)
    else:
        ids, vecs = _vectors_of(work, n, embedder)
    dim = vecs.shape[1]
    enc = create_embedder(bench_settings(work, n, embedder), embedder, for_queries=True)
    texts = eval_queries()
    queries = enc.encode_queries(texts)
    encode_ms = timed([lambda t=t: enc.encode_queries([t]) for t in texts])
    rows: list[dict[str, Any]] = []

    def measure(label: str, make: Callable[[], Any], tune: Callable[[Any, int], None] | None = None,
                values: tuple[int, ...] = (0,)) -> Any:
        t0 = time.perf_counter()
        index = make()
        index.add(ids, vecs)
        build_s = time.perf_counter() - t0
        for v in values:
            if tune:
                tune(index, v)
            lat, got = _search_ms(index, queries)
            rows.append({"index": label, "param": v or "", "build_s": round(build_s, 1),
                         "memory_mb": round(_bytes(index) / 2**20, 1),
                         **lat, "recall@20": _recall(got, truth)})
            click.echo(rows[-1], err=True)
        return index

    flat = FaissIndex(dim)
    flat.add(ids, vecs)
    _, truth = _search_ms(flat, queries)
    measure("flat float32", lambda: FaissIndex(dim))
    measure("flat fp16 + exact re-scoring", lambda: QuantizedIndex(dim, "fp16"))
    sq8 = measure("flat sq8 + exact re-scoring", lambda: QuantizedIndex(dim, "sq8"))
    nlist = choose_nlist(n)
    ivf = measure(f"IVF{nlist} sq8 + exact re-scoring",
                  lambda: QuantizedIndex(dim, "sq8", nlist=nlist),
                  lambda ix, v: setattr(ix, "nprobe", v), (16, 32, 64, 128))
    if n <= 200_000:
        measure("HNSW32 float32", lambda: FaissIndex(dim, kind="hnsw"),
                lambda ix, v: setattr(ix, "ef_search", v), (256, 1024))
    ivf.save(work / f"ivf-sq8-{n}.faiss")
    threads = {}
    import faiss

    for t in (1, 2):
        faiss.omp_set_num_threads(t)
        threads[f"flat float32, {t} thread(s)"] = _search_ms(flat, queries)[0]
        threads[f"flat sq8, {t} thread(s)"] = _search_ms(sq8, queries)[0]
    # a filter that lets 99% through (e.g. hidden profiles removed): selector cost
    allowed = ids[np.random.default_rng(1).random(len(ids)) < 0.99]
    batch_ms = timed([lambda: faiss.IDSelectorBatch(allowed)] * 20)
    from matcher.index.faiss_index import id_selector

    bitmap_ms = timed([lambda: id_selector(allowed)] * 20)
    filtered = _search_ms(flat, queries, allowed)[0]
    # the floor: one pass over the float32 vectors at this machine's memory bandwidth
    big = np.ones(2**27, dtype=np.float32)
    t0 = time.perf_counter()
    for _ in range(3):
        float(big.sum())
    gbps = 3 * big.nbytes / (time.perf_counter() - t0) / 1e9
    return {"vectors": n, "dim": dim, "derived_from": derive_from, "noise": noise if derive_from
            else 0, "rows": rows, "threads": threads, "encode_query": encode_ms,
            "selector_batch": batch_ms, "selector_bitmap": bitmap_ms,
            "flat_filtered_99pct": filtered, "bandwidth_gbps": round(gbps, 1),
            "scan_floor_ms": round(vecs.nbytes / (gbps * 1e9) * 1000, 2)}


def _profile_ids(n: int, count: int = 40) -> list[str]:
    rng = np.random.default_rng(3)
    return [f"syn-{i:07d}" for i in rng.choice(n, min(count, n), replace=False)]


def stage_library(work: Path, n: int, embedder: str) -> dict[str, Any]:
    from matcher.geo import load_gazetteer
    from matcher.search import Matcher
    from matcher.slam import SlamPlanner
    from matcher.store import Store

    settings = bench_settings(work, n, embedder, faiss_threads=SERVE_THREADS)
    with Store(settings.data_dir) as store:
        t0 = time.perf_counter()
        matcher = Matcher(store, settings, load_gazetteer())
        load_s = time.perf_counter() - t0
        texts = eval_queries()
        out: dict[str, Any] = {"load_s": round(load_s, 1), **rss_mb()}
        out["text"] = timed([lambda t=t: matcher.match_text(t) for t in texts])
        out["text_repeated"] = timed([lambda t=t: matcher.match_text(t) for t in texts])
        out["profile"] = timed([lambda p=p: matcher.match_profile(p, logged_in=True)
                                for p in _profile_ids(n)])
        planner = SlamPlanner(matcher)
        out["slam"] = timed([lambda r=r: planner.plan(r) for r in REGIONS], warm=1)
        prof = cProfile.Profile()
        query = "Wer hilft uns beim Laserschweißen dünner Bleche in der Nähe von Chemnitz?"
        prof.enable()
        matcher.match_text(query)
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(25)
        out["profile_of_one_query"] = buf.getvalue()
        out.update({f"after_{k}": v for k, v in rss_mb().items()})
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> None:
    with urllib.request.urlopen(url, timeout=120) as resp:
        resp.read()


def stage_http(work: Path, n: int, embedder: str) -> dict[str, Any]:
    settings = bench_settings(work, n, embedder)
    port = _free_port()
    env = {**os.environ, "MATCHER_EMBEDDER": embedder, "MATCHER_SENTENCE_EMBEDDER": "use",
           "MATCHER_EMBED_THREADS": "1", "MATCHER_FAISS_THREADS": str(SERVE_THREADS)}
    server = subprocess.Popen([str(Path(sys.executable).with_name("matcher-web")), "--data-dir",
                               str(settings.data_dir), "--port", str(port), "--threads", "4"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        t0 = time.perf_counter()
        while True:
            try:
                _get(base + "/healthz")
                break
            except OSError:
                if server.poll() is not None or time.perf_counter() - t0 > 600:
                    raise click.ClickException("matcher-web kam nicht hoch") from None
                time.sleep(0.5)
        _get(base + "/api/match?text=Laser")  # the app loads the matcher on first use
        ready_s = time.perf_counter() - t0
        q = urllib.parse.quote
        out: dict[str, Any] = {"ready_s": round(ready_s, 1), "after_load": rss_mb(server.pid),
                               "settings": {k[8:].lower(): v for k, v in sorted(env.items())
                                            if k.startswith("MATCHER_")}}
        out["text"] = timed([lambda t=t: _get(f"{base}/api/match?text={q(t)}&limit=10")
                             for t in eval_queries()])
        out["profile"] = timed([lambda p=p: _get(f"{base}/api/profiles/{p}/matches?limit=10")
                                for p in _profile_ids(n)])
        out["slam"] = timed([lambda r=r: _get(f"{base}/api/slam?region={q(r)}")
                             for r in REGIONS], warm=1)
        out["server"] = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return out


def stage_memory(work: Path, n: int, embedder: str) -> dict[str, Any]:
    """A fresh process: the compressed index of ``vectors`` plus the profile table of the
    ingested store of this size; RSS after each."""
    code = f"""
import json, time
from pathlib import Path
def rss_mb():
    f = dict(l.split(":", 1) for l in Path("/proc/self/status").read_text().splitlines())
    return {{"rss_mb": int(f["VmRSS"].split()[0]) / 1024,
             "peak_rss_mb": int(f["VmHWM"].split()[0]) / 1024}}
out = {{"start": rss_mb()}}
from matcher.index import load_vector_index
t0 = time.perf_counter()
index = load_vector_index(Path({str(work / f"ivf-sq8-{n}.faiss")!r}))
out["index_load_s"] = round(time.perf_counter() - t0, 1)
out["index"] = rss_mb()
from matcher.filters import ProfileTable
from matcher.store import Store
t0 = time.perf_counter()
with Store({str(work / f"ingest-{n}")!r}) as store:
    table = ProfileTable(store.table_rows())
out["table_load_s"] = round(time.perf_counter() - t0, 1)
out["table_rows"] = len(table)
import numpy as np
q = np.asarray(index.vectors(index.ids()[:20]))
for v in q:
    index.search(v, 120)
out["after_searches"] = rss_mb()
print(json.dumps(out))
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def stage_store(work: Path, n: int, embedder: str) -> dict[str, Any]:
    """The store of this size that the index, library and served stages use (ingested once)."""
    from matcher.store import Store

    t0 = time.perf_counter()
    ensure_store(work, n)
    with Store(work / str(n)) as store:
        return {"profiles": store.count(), "seconds": round(time.perf_counter() - t0, 1)}


def stage_served(work: Path, n: int, embedder: str,
                 storages: tuple[str, ...] = ("disk",)) -> dict[str, Any]:
    """The whole matcher as a server holds it, each storage in a fresh process: sentence
    vectors, sentence texts and keyword matrix read into memory or read from the build's
    files as requests need them."""
    out = {}
    for storage in storages:
        res = subprocess.run([sys.executable, str(Path(__file__).resolve()), "probe-served",
                              "--work", str(work), "--size", str(n), "--embedder", embedder,
                              "--storage", storage],
                             capture_output=True, text=True, cwd=ROOT, check=True)
        out[storage] = json.loads(res.stdout.strip().splitlines()[-1])
        click.echo(f"{n} served {storage}: {out[storage]}", err=True)
    return out


STAGES: dict[str, Callable[..., dict[str, Any]]] = {
    "ingest": stage_ingest, "embed": stage_embed, "index": stage_index,
    "vectors": stage_vectors, "library": stage_library, "http": stage_http,
    "memory": stage_memory, "served": stage_served, "store": stage_store}


@click.group()
def main() -> None:
    """Scale benchmarks (see the module docstring)."""


@main.command()
@click.option("--sizes", default="1000,10000,100000", show_default=True)
@click.option("--stages", default="ingest,index,vectors,library,http", show_default=True)
@click.option("--embedder", default="use", show_default=True)
@click.option("--work", default="/tmp/matcher-bench", show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
@click.option("--derive-from", type=int, default=0,
              help="vectors stage: real vectors of this size plus noise instead of embedding.")
@click.option("--storages", default="disk", show_default=True,
              help="served stage: sentence and keyword storage(s) to measure (disk, memory).")
def run(sizes: str, stages: str, embedder: str, work: Path, derive_from: int,
        storages: str) -> None:
    """Run stages for sizes; figures go to WORK/results."""
    work.mkdir(parents=True, exist_ok=True)
    for n in (int(x) for x in sizes.split(",")):
        for stage in stages.split(","):
            kwargs: dict[str, Any] = {}
            if stage == "vectors" and derive_from:
                kwargs["derive_from"] = derive_from
            if stage == "served":
                kwargs["storages"] = tuple(storages.split(","))
            save(work, n, stage, STAGES[stage](work, n, embedder, **kwargs))


@main.command("probe-served", hidden=True)
@click.option("--work", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--size", "n", required=True, type=int)
@click.option("--embedder", default="use")
@click.option("--storage", type=click.Choice(["memory", "disk"]), default="disk")
def probe_served(work: Path, n: int, embedder: str, storage: str) -> None:
    """(For the served stage) load the matcher of one size in this process, run the judged
    queries and partner lists, print RSS and latencies as JSON."""
    from matcher.geo import load_gazetteer
    from matcher.search import Matcher
    from matcher.store import Store

    out: dict[str, Any] = {"start": rss_mb(), "storage": storage}
    settings = bench_settings(work, n, embedder, faiss_threads=SERVE_THREADS,
                              sentence_storage=storage, sparse_storage=storage)
    with Store(settings.data_dir) as store:
        t0 = time.perf_counter()
        matcher = Matcher(store, settings, load_gazetteer())
        out["load_s"] = round(time.perf_counter() - t0, 1)
        out["after_load"] = rss_mb()
        texts = eval_queries()
        matcher.match_text(texts[0])
        out["after_first"] = rss_mb()
        out["text"] = timed([lambda t=t: matcher.match_text(t) for t in texts])
        out["profile"] = timed([lambda p=p: matcher.match_profile(p, logged_in=True)
                                for p in _profile_ids(n, 30)])
        out["after_all"] = rss_mb()
        out["vector_storage"] = settings.vector_storage
    click.echo(json.dumps(out))


@main.command()
@click.option("--work", default="/tmp/matcher-bench", show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
def write(work: Path) -> None:
    """Render WORK/results into docs/BENCHMARKS.md (sections without figures keep their text)."""
    from bench_report import render

    click.echo("written: " + ", ".join(render(work / "results", DOC)), err=True)


if __name__ == "__main__":
    main()
