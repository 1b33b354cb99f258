"""Render the figures of ``bench.py`` and ``bench_txtai.py`` (WORK/results/*.json) into the
generated sections of docs/BENCHMARKS.md. Imported by ``bench.py write``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from matcher.docs import replace_section


def _load(folder: Path) -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for f in sorted(folder.glob("*.json")):
        size, _, stage = f.stem.partition("-")
        out[(size, stage)] = json.loads(f.read_text(encoding="utf-8"))
    return out


def _sizes(res: dict[tuple[str, str], Any], stage: str) -> list[str]:
    return sorted({s for s, st in res if st == stage and s.isdigit()}, key=int)


def _when(r: dict[str, Any]) -> str:
    return f"{r['measured']}, load {r['load_avg'][0]:.1f}"


def _lat(d: dict[str, Any] | None) -> str:
    return f"{d['p50_ms']:.1f} / {d['p95_ms']:.1f}" if d else "–"


def _machine(res: dict[tuple[str, str], Any]) -> str:
    return next(iter(res.values()))["machine"]


def scale_table(res: dict[tuple[str, str], Any]) -> str:
    lines = ["| profiles | ingest /s | index build s (embedded · cached) | index files MB | "
             "text match ms p50/p95 (library · HTTP) | profile match (library · HTTP) | "
             "Inno Slam plan (library · HTTP) | server RSS MB (after load · peak) | measured |",
             "|---|---|---|---|---|---|---|---|---|"]
    for n in sorted({s for s, _ in res if s.isdigit()}, key=int):
        ing, idx = res.get((n, "ingest")), res.get((n, "index"))
        lib, http = res.get((n, "library")), res.get((n, "http"))
        if not (ing or idx or lib):
            continue
        build = (f"{idx['seconds']:.0f} ({idx['embedded']:,} · {idx['from_cache']:,})"
                 if idx else "–")
        files = f"{sum(idx['files_mb'].values()):.0f}" if idx else "–"
        rss = (f"{http['after_load']['rss_mb']:.0f} · {http['server']['peak_rss_mb']:.0f}"
               if http else "–")
        cells = [f"{int(n):,}", f"{ing['profiles_per_s']:,}" if ing else "–", build, files]
        for key in ("text", "profile", "slam"):
            cells.append(f"{_lat(lib and lib.get(key))} · {_lat(http and http.get(key))}")
        stamp = (lib or idx or ing or {})
        cells += [rss, _when(stamp) if stamp else "–"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def files_table(res: dict[tuple[str, str], Any]) -> str:
    lines = ["| profiles | index kind | files (MB) |", "|---|---|---|"]
    for n in _sizes(res, "index"):
        r = res[(n, "index")]
        files = ", ".join(f"`{k}` {v:.1f}" for k, v in sorted(r["files_mb"].items()))
        lines.append(f"| {int(n):,} | {r['index_kind']} | {files} |")
    return "\n".join(lines)


def vectors_table(res: dict[tuple[str, str], Any]) -> str:
    lines = ["| vectors | index | param | build s | memory MB | search ms p50 / p95 | "
             "recall@20 | measured |", "|---|---|---|---|---|---|---|---|"]
    for n in _sizes(res, "vectors"):
        r = res[(n, "vectors")]
        label = f"{int(n):,}" + (" ²" if r["derived_from"] else "")
        for row in r["rows"]:
            lines.append(f"| {label} | {row['index']} | {row['param']} | {row['build_s']} | "
                         f"{row['memory_mb']} | {row['p50_ms']:.2f} / {row['p95_ms']:.2f} | "
                         f"{row['recall@20']:.3f} | {_when(r)} |")
    return "\n".join(lines)


def floor_table(res: dict[tuple[str, str], Any]) -> str:
    lines = ["| vectors | encode query (USE, 1 thread) p50 | one pass over float32 vectors "
             "(measured bandwidth) | floor | IDSelectorBatch 99 % | bitmap selector 99 % | "
             "FAISS threads: flat f32 1 · 2 | flat sq8 1 · 2 |",
             "|---|---|---|---|---|---|---|---|"]
    for n in _sizes(res, "vectors"):
        r = res[(n, "vectors")]
        t = r["threads"]
        enc = r["encode_query"]["p50_ms"]
        lines.append(
            f"| {int(n):,} | {enc:.1f} ms | {r['scan_floor_ms']:.2f} ms "
            f"({r['bandwidth_gbps']} GB/s) | {enc + r['scan_floor_ms']:.1f} ms | "
            f"{r['selector_batch']['p50_ms']:.2f} ms | {r['selector_bitmap']['p50_ms']:.2f} ms | "
            f"{_lat(t['flat float32, 1 thread(s)'])} · {_lat(t['flat float32, 2 thread(s)'])} | "
            f"{_lat(t['flat sq8, 1 thread(s)'])} · {_lat(t['flat sq8, 2 thread(s)'])} |")
    return "\n".join(lines)


def embed_table(res: dict[tuple[str, str], Any]) -> str:
    runs = [v for (s, st), v in res.items() if st == "embed"]
    if not runs:
        return "(not measured yet)"
    r = runs[0]
    lines = [f"Sample: generated profile texts (~{r['words_per_text']} words), measured "
             f"{_when(r)}. Largest difference between a Ray vector and the single-process "
             f"vector of the same text: {r['ray_max_abs_diff']:.1e}.", "",
             "| backend | threads | texts | profiles/s |", "|---|---|---|---|"]
    lines += [f"| {x['backend']} | {x['threads']} | {x['texts']} | {x['per_s']} |"
              for x in r["rows"]]
    return "\n".join(lines)


def memory_table(res: dict[tuple[str, str], Any]) -> str:
    lines = ["| profiles | process start | + compressed index | + profile table | after 20 "
             "searches (RSS · peak) | measured |", "|---|---|---|---|---|---|"]
    for n in _sizes(res, "memory"):
        r = res[(n, "memory")]
        lines.append(f"| {int(n):,} | {r['start']['rss_mb']:.0f} MB | {r['index']['rss_mb']:.0f} "
                     f"MB ({r['index_load_s']} s) | {r['table_rows']:,} rows "
                     f"({r['table_load_s']} s) | {r['after_searches']['rss_mb']:.0f} · "
                     f"{r['after_searches']['peak_rss_mb']:.0f} MB | {_when(r)} |")
    return "\n".join(lines)


def served_table(res: dict[tuple[str, str], Any]) -> str:
    lines = ["| profiles | vectors · sentences and keywords | load s | RSS after load | after "
             "the first request | after 66 text and 30 profile requests (RSS · peak) | text "
             "match ms p50 / p95 | profile match ms p50 / p95 | measured |",
             "|---|---|---|---|---|---|---|---|---|"]
    for n in _sizes(res, "served"):
        r = res[(n, "served")]
        for storage, x in r.items():
            if not isinstance(x, dict) or "after_all" not in x:
                continue
            lines.append(
                f"| {int(n):,} | {x['vector_storage']} · {storage} | {x['load_s']} | "
                f"{x['after_load']['rss_mb']:,.0f} MB | {x['after_first']['rss_mb']:,.0f} MB | "
                f"{x['after_all']['rss_mb']:,.0f} · {x['after_all']['peak_rss_mb']:,.0f} MB | "
                f"{_lat(x['text'])} | {_lat(x['profile'])} | {_when(r)} |")
    return "\n".join(lines)


def txtai_table(res: dict[tuple[str, str], Any]) -> str:
    runs = [txtai_run(r) for (s, st), r in sorted(res.items()) if s == "demo"
            and st.startswith("txtai")]
    return "\n\n".join(runs) or "(not measured yet)"


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}×" if a is not None and b else "–"


def _build_rows(m: dict[str, Any], t: dict[str, Any]) -> list[str]:
    """Where matcher's build time goes, against txtai's whole build."""
    parts = m.get("build_parts")
    if not parts:
        return []
    loads = ", ".join(f"{k} {v:.1f} s" for k, v in parts["model loads"].items())
    prof = parts["profiles (load + embed)"]
    rows = [f"| … profile vectors (model load + embedding) | {prof} | {t['build_s']} (all) | "
            f"{_ratio(prof, t['build_s'])} |",
            f"| … sentence vectors (USE, load + embedding) | "
            f"{parts['sentences (load + embed)']} | – | – |",
            f"| … after the last embedding: FAISS, files (lemmas and TF-IDF run beside the "
            f"embedding) | {parts['rest (lemmas, TF-IDF, FAISS, files)']} | – | – |",
            f"| … of these, model loads | {loads} | – | – |"]
    return rows


def _floor_rows(m: dict[str, Any], t: dict[str, Any]) -> list[str]:
    """The model's own time and the floor (encoding + one exact scan) of a dense query."""
    if "encode" not in m:
        return []
    floor = m["encode"]["p50_ms"] + m["scan"]["p50_ms"]
    t_enc = t.get("encode")
    return [
        f"| query ms p50 / p95: model encoding alone | {_lat(m['encode'])} | {_lat(t_enc)} | "
        f"{_ratio(m['encode']['p50_ms'], t_enc and t_enc['p50_ms'])} |",
        f"| query ms p50 / p95: one exact scan of the vectors (FAISS flat, top 10) | "
        f"{m['scan']['p50_ms']:.2f} / {m['scan']['p95_ms']:.2f} | – | – |",
        f"| floor ms (encoding p50 + scan p50) · dense search p50 / floor | {floor:.1f} · "
        f"{m['dense_search']['p50_ms'] / floor:.2f}× | – | – |"]


def _hybrid_latency_rows(m: dict[str, Any], t: dict[str, Any]) -> list[str]:
    """Hybrid search on both sides (matcher: dense + character n-gram TF-IDF; txtai: dense +
    its BM25 index, built after its other figures)."""
    th = t.get("hybrid")
    if "hybrid_search" not in m or not th:
        return []
    return [f"| query ms p50 / p95: hybrid search (dense + keywords), top 10 | "
            f"{_lat(m['hybrid_search'])} | {_lat(th['search'])} | "
            f"{_ratio(m['hybrid_search']['p50_ms'], th['search']['p50_ms'])} |",
            f"| index build s with the keyword index (txtai: a second build with `hybrid`) | "
            f"{m['build_s']} | {th['build_s']} | {_ratio(m['build_s'], th['build_s'])} |"]


def _turn_rows(r: dict[str, Any]) -> list[str]:
    """Dense and hybrid search with both processes alive, taking turns query by query."""
    turns = r.get("turns")
    if not turns:
        return []
    return [f"| query ms p50 / p95: {kind} search, the two sides taking turns query by query; "
            f"last column: txtai / matcher per query, median · share ≥ 3× | "
            f"{_lat(d['matcher'])} | {_lat(d['txtai'])} | "
            f"{d['ratio_median']:.2f}× · {d['at_least_3x']:.0%} |"
            for kind, d in turns.items()]


def _quality_rows(m: dict[str, Any], t: dict[str, Any]) -> list[str]:
    """nDCG@10 of dense against dense, hybrid against hybrid, and the full matching against
    txtai's best (its hybrid search where measured, else its dense search)."""
    best = t.get("hybrid") or t
    theirs = "txtai hybrid" if "hybrid" in t else "txtai dense"
    rows = [("dense only", m["dense"], t, 4)]
    if "hybrid" in m and "hybrid" in t:
        rows.append(("hybrid", m["hybrid"], t["hybrid"], 4))
    rows.append((f"matcher full matching, {theirs}", m["full"], best, 3))
    out = []
    for label, mine, other, digits in rows:
        for group, key in (("queries", "ndcg_queries"), ("partner cases", "ndcg_partners")):
            out.append(f"| nDCG@10 {group}: {label} | {mine[key]:.{digits}f} | "
                       f"{other[key]:.{digits}f} | {_ratio(mine[key], other[key])} |")
    return out


def _paired_rows(r: dict[str, Any]) -> list[str]:
    """The per-case comparison of the nDCG@10 figures (bench_txtai.paired)."""
    pairs = r.get("paired")
    if not pairs:
        return []

    def cell(d: dict[str, Any]) -> str:
        low, high = d["ci95"]
        return (f"{d['mean']:+.4f} [{low:+.4f}, {high:+.4f}] · {d['differing']} of {d['n']}")

    names = {"dense/dense": "dense / dense", "hybrid/hybrid": "hybrid / hybrid",
             "full/hybrid": "full matching / txtai hybrid"}
    out = ["", "nDCG@10, matcher minus txtai, case by case: mean difference [95 % paired "
           "bootstrap interval] · cases whose nDCG@10 differs.", "",
           "| matcher / txtai | queries | partner cases |", "|---|---|---|"]
    for key, d in pairs.items():
        out.append(f"| {names.get(key, key)} | {cell(d['queries'])} | {cell(d['partners'])} |")
    return out


def _seconds(side: dict[str, Any]) -> str:
    return " / ".join(f"{x} s" for x in side.get("build_s_all", [side["build_s"]]))


def txtai_run(r: dict[str, Any]) -> str:
    m, t = r["matcher"], r["txtai"]
    m_peak, t_peak, t_p50 = m["end"]["peak_rss_mb"], t["end"]["peak_rss_mb"], t["search"]["p50_ms"]
    ratio = _ratio
    runtime = m.get("runtime", "torch")
    export = (f" The one-time ONNX export before the build took {r['onnx_export_s']} s "
              "(0 = reused from the cache)." if runtime != "torch" and "onnx_export_s" in r
              else "")
    how = {"onnx": "ONNX Runtime", "torch": "torch",
           "onnx-int8": "ONNX Runtime and 8-bit weights (`st_runtime = onnx-int8`)",
           "openvino": f"OpenVINO in {m.get('precision') or 'its default precision'}"}[runtime]
    bulk = m.get("bulk_runtime", runtime)
    docs = ("; the build's documents with torch under bfloat16 autocast "
            f"(`st_bulk_runtime = {r.get('st_bulk_runtime', 'auto')}`)"
            if bulk == "torch-bf16" else
            f"; the build's documents with it too (`st_bulk_runtime = "
            f"{r.get('st_bulk_runtime', 'auto')}`)" if "bulk_runtime" in m else "")
    lines = [
        f"**Threads of encoder and FAISS: {r.get('threads', 'library default')}; matcher runs "
        f"the model with {how}{docs}, txtai with torch "
        f"(sentence-transformers).** Measured {_when(r)}; "
        f"txtai {r['txtai_version']} (FAISS backend, its defaults); 599 demo profiles, 66 "
        f"judged queries, 37 partner cases.{export}" + (
            f" Each side ran {r['rounds']} times, alternating with the other; a build time is "
            f"the fastest run's (all: matcher {_seconds(m)}, txtai {_seconds(t)}), a latency "
            "the run with the lowest p50, peak RSS the highest." if r.get("rounds", 1) > 1
            else ""),
        "", "| | matcher | txtai | matcher / txtai |", "|---|---|---|---|",
        f"| index build s (fresh, no cache) | {m['build_s']} | {t['build_s']} | "
        f"{ratio(m['build_s'], t['build_s'])} |",
        *_build_rows(m, t),
        *([f"| peak RSS MB after the build | {m['after_build']['peak_rss_mb']:.0f} | "
           f"{t['after_build']['peak_rss_mb']:.0f} | "
           f"{ratio(m['after_build']['peak_rss_mb'], t['after_build']['peak_rss_mb'])} |"]
          if "after_build" in m and "after_build" in t else []),
        f"| peak RSS MB (build, queries and the evaluation; matcher also loads the torch model "
        f"for the last line below) | {m_peak:.0f} | {t_peak:.0f} | {ratio(m_peak, t_peak)} |",
        *_floor_rows(m, t),
        f"| query ms p50 / p95: dense search, top 10 | {_lat(m['dense_search'])} | "
        f"{_lat(t['search'])} | {ratio(m['dense_search']['p50_ms'], t['search']['p50_ms'])} |",
        *_hybrid_latency_rows(m, t),
        *_turn_rows(r),
        f"| query ms p50 / p95: full matching (parse, hybrid, re-rank, explain) | "
        f"{_lat(m['full_match'])} | – | {ratio(m['full_match']['p50_ms'], t_p50)} |",
        f"| same, repeated query (cached query vectors) | {_lat(m['full_match_repeated'])} | – | "
        f"{ratio(m['full_match_repeated']['p50_ms'], t['search']['p50_ms'])} |",
        *_quality_rows(m, t)]
    lines += _paired_rows(r)
    if "encode_torch" in m:
        o, tt = m["encode"]["p50_ms"], m["encode_torch"]["p50_ms"]
        lines += ["", f"The same model in matcher's process with torch (float weights) instead "
                      f"(same queries, right after): encoding {_lat(m['encode_torch'])} ms "
                      f"p50 / p95 — {how} takes {o / tt:.2f}× the time of torch."]
    return "\n".join(lines)


def profile_text(res: dict[tuple[str, str], Any]) -> str:
    sizes = _sizes(res, "library")
    if not sizes:
        return "(not measured yet)"
    n = sizes[-1]
    body = res[(n, "library")]["profile_of_one_query"].strip().splitlines()
    keep = [ln for ln in body if ln.strip()][:32]
    return (f"One uncached text query at {int(n):,} profiles (cProfile, cumulative time, "
            f"{_when(res[(n, 'library')])}):\n\n```\n" + "\n".join(keep) + "\n```")


# Which result stages a section is made from: a section without figures keeps its text.
SECTION_STAGES = {"scale": ("ingest", "index", "library", "http"), "files": ("index",),
                  "vectors": ("vectors",), "floor": ("vectors",), "embed_rates": ("embed",),
                  "memory": ("memory",), "txtai": ("txtai",), "query_profile": ("library",),
                  "served": ("served",)}


def render(folder: Path, doc: Path) -> list[str]:
    """Rewrite the sections of ``doc`` that ``folder`` has figures for; returns their names."""
    res = _load(folder)
    if not res:
        raise SystemExit(f"no results in {folder}")
    tables = {"scale": scale_table, "files": files_table, "vectors": vectors_table,
              "floor": floor_table, "embed_rates": embed_table, "memory": memory_table,
              "txtai": txtai_table, "query_profile": profile_text, "served": served_table}
    written = []
    for name, table in tables.items():
        if not any(st.startswith(SECTION_STAGES[name]) for _, st in res):
            continue
        replace_section(doc, f"bench_{name}", f"Machine: {_machine(res)}.\n\n{table(res)}")
        written.append(name)
    return written
