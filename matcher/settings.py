"""Settings declared once as data.

Every setting has a name, a type, a default and a help text. Values come from the defaults,
then ``MATCHER_<NAME>`` environment variables, then explicit overrides (CLI flags, Flask
config). ``docs`` and the README settings table are checked against :data:`SETTINGS`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matcher.errors import ConfigError


@dataclass(frozen=True)
class Setting:
    """Declaration of one setting."""

    name: str
    type: type
    default: Any
    help: str

    @property
    def env_var(self) -> str:
        return "MATCHER_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", str, "instance", "Data directory: SQLite database, index files, caches."),
    Setting(
        "regions",
        dict,
        {
            "Lausitz": {"districts": ["Landkreis Bautzen", "Landkreis Görlitz"]},
            "Oberlausitz": {"districts": ["Landkreis Bautzen", "Landkreis Görlitz"]},
            "Erzgebirge": {"districts": ["Erzgebirgskreis"]},
            "Vogtland": {"districts": ["Vogtlandkreis"]},
            "Region Chemnitz": {"center": "Chemnitz", "radius_km": 35},
        },
        "Custom regions as JSON: name -> {\"districts\": [...]} or "
        "{\"center\": PLACE, \"radius_km\": N}.",
    ),
    Setting("embedder", str, "e5+use",
            "Embedding backend for profiles and queries: e5, use, e5+use, minilm, hashing "
            "(tests only) or st:MODEL (any sentence-transformers name or directory)."),
    Setting("sentence_embedder", str, "use",
            "Embedding backend for sentence-level vectors (needs, offers, description sentences)."),
    Setting("embed_ensemble_weight", float, 0.5,
            "Weight of e5 in the e5+use concatenation (0..1; USE gets the rest)."),
    Setting("embed_batch_size", int, 16, "Texts per model call when embedding."),
    Setting("embed_threads", int, 0, "CPU threads for the encoders (0 = library default)."),
    Setting("query_threads", int, 1,
            "CPU threads for one request: e5's query encoding, the FAISS search and numpy's "
            "BLAS in a process that matches (0 = library defaults); 1 keeps concurrent "
            "requests from spinning against each other on a small machine."),
    Setting("compute_slots", int, 2,
            "Answers a server computes at the same time (the rest wait; cached answers never "
            "do): 2 lets one run Python while another waits for a model or numpy; more only "
            "add contention on a 2-core machine (docs/RELIABILITY.md)."),
    Setting("st_runtime", str, "auto",
            "Runtime of minilm and st:MODEL backends: onnx (ONNX Runtime; the model is exported "
            "once from its local weights to DATA_DIR/cache/onnx), openvino (OpenVINO runs that "
            "export, in bfloat16 where the CPU has bfloat16 matrix units) or torch "
            "(sentence-transformers), same vectors; auto = openvino where the CPU has such units "
            "and OpenVINO is installed, else onnx; onnx-int8 runs an 8-bit copy of the export "
            "(1.4–2.1× as fast as onnx on the 2-core test machine, vectors of their own: a "
            "different model id, so the index is rebuilt)."),
    Setting("st_bulk_runtime", str, "auto",
            "Runtime of minilm and st:MODEL backends for documents embedded in bulk (index "
            "builds): torch-bf16 (sentence-transformers under torch's bfloat16 autocast: "
            "0.36× the float time on the AMX test machine, cosine 0.9999 to the float "
            "vectors, same model id), same (st_runtime) or auto (torch-bf16 where the CPU "
            "has bfloat16 matrix units, AMX or AVX512-BF16; never for onnx-int8, and openvino "
            "keeps its own, bfloat16 already)."),
    Setting("st_static_lengths", str, "64",
            "openvino runtime: token lengths (comma-separated) with a graph of fixed shape for "
            "single texts such as queries; a text is padded to the next length, longer texts "
            "and batches use the dynamic graph. Each length is compiled on first use and holds "
            "about the model's size in memory again (MiniLM: 140 MB per process); empty = "
            "none. Fixed shapes made a query 1.2× as fast on the test machine "
            "(docs/BENCHMARKS.md)."),
    Setting("embed_query_prefix", str, "",
            "Prefix for queries with st:MODEL backends (e.g. 'query: ' for e5 models)."),
    Setting("embed_document_prefix", str, "",
            "Prefix for documents with st:MODEL backends (e.g. 'passage: ')."),
    Setting("ann_threshold", int, 30_000,
            "From this many vectors on, use an approximate HNSW index instead of exact search."),
    Setting("hnsw_ef_search", int, 1024,
            "HNSW efSearch (recall/speed trade-off; 1024 gave recall@20 0.991 at 100k)."),
    Setting("vector_storage", str, "float32",
            "Profile vectors in the index: float32 (exact), fp16 or sq8 (compressed codes "
            "scanned, candidates re-scored exactly from float32 vectors read from disk; an "
            "inverted file instead of HNSW from ann_threshold on)."),
    Setting("sentence_storage", str, "memory",
            "Sentence vectors of a loaded index: memory (read in at load; fastest) or disk "
            "(the rows a request needs are read from the build's file: at 100,000 profiles "
            "781 MB less RSS and about 1 ms more per request, docs/BENCHMARKS.md)."),
    Setting("sparse_storage", str, "memory",
            "Keyword (TF-IDF) matrix of a loaded index: memory (read in at load, by rows and "
            "by columns; fastest) or disk (the rows and n-gram columns a request needs are read "
            "from the build's files: for corpora whose matrix does not fit the memory budget, "
            "docs/BENCHMARKS.md, \"Memory\")."),
    Setting("ivf_nprobe", int, 64,
            "Inverted lists searched per query with vector_storage fp16/sq8 above "
            "ann_threshold (recall/speed trade-off, docs/BENCHMARKS.md)."),
    Setting("faiss_threads", int, 0,
            "Threads FAISS uses for index builds and searches (0 = library default)."),
    Setting("fusion", str, "zscore",
            "How the hybrid ranking fuses channels: zscore (standardised scores) or rrf."),
    Setting("fusion_k", int, 60, "Reciprocal rank fusion constant k (fusion = rrf)."),
    Setting("fusion_sparse_weight", float, 0.3,
            "Weight of the sparse (character n-gram) channel in the hybrid fusion (dense = 1)."),
    Setting("half_distance_km", float, 40.0,
            "Distance at which the proximity bonus has halved (km)."),
    Setting("proximity_weight", float, 0.04,
            "Weight of the proximity bonus in the match score (cosine units)."),
    Setting("cross_weight", float, 0.0,
            "Weight of the best need↔offer sentence pair (sentence embedder) in the match "
            "score; 0 = used for explanations only (measured: no gain, docs/EVALUATION.md)."),
    Setting("sparse_candidate_max_df", float, 0.5,
            "Share of profiles above which a common character n-gram is left out when the "
            "sparse channel picks its candidates (re-ranking still uses exact keyword scores); "
            "1 = exact. 0.5 reads 45 % of the postings at 100,000 profiles, with the same "
            "nDCG@10 on corpora/eval (docs/EVALUATION.md)."),
    Setting("sparse_weight", float, 0.6,
            "Weight of the character n-gram keyword similarity in the match score."),
    Setting("profile_sparse_weight", float, 3.5,
            "Weight of the keyword similarity when a profile searches for partners with its "
            "needs text (matching a profile; chosen on the tuning half of the partner cases, "
            "docs/EVALUATION.md)."),
    Setting("competitor_weight", float, 0.1,
            "Penalty for candidates whose needs resemble the request more than their offers "
            "do (peers with the same problem rather than partners)."),
    Setting("max_per_group", int, 3,
            "At most this many results of one organisation (same parent) in a result page."),
    Setting("client_needs_weight", float, 0.25,
            "Weight of a named client's needs added to the request (the client's name itself "
            "is left out of the search text)."),
    Setting("vocabulary_file", str, "",
            "Problem vocabulary (JSON lines: field, triggers, terms) that adds a field's "
            "technical terms to requests that describe its problem in everyday words; empty = "
            "the bundled matcher/data/problem_vocabulary.jsonl."),
    Setting("expansion_weight", float, 0.5,
            "Weight of the vocabulary's technical terms added to a free-text request, shared "
            "by the fields it fires (query vector and the candidates' keyword similarity; "
            "0 = off)."),
    Setting("expansion_rank_share", float, 0.3,
            "A fired vocabulary field is used only when it is among this share of the "
            "vocabulary's fields most similar to the request (profile embedder; 1 = always)."),
    Setting("profile_expansion_weight", float, 0.3,
            "The same for the needs a profile searches its partners with (0 = off)."),
    Setting("feedback_weight", float, 0.3,
            "Pseudo-relevance feedback: how far the query vector moves towards the mean of the "
            "best first-pass candidates (0 = off)."),
    Setting("feedback_depth", int, 3,
            "Number of best first-pass candidates the feedback vector is taken from."),
    Setting("family_weight", float, 0.5,
            "Share of relevance a chair borrows from its best-fitting researcher and a "
            "researcher from its chair (0 = off)."),
    Setting("complementarity", dict, {
        "company": {"company": 0.85, "startup": 0.95, "chair": 1.0, "researcher": 1.0,
                    "tgz": 0.8, "offering": 0.9},
        "startup": {"company": 1.0, "startup": 0.85, "chair": 1.0, "researcher": 1.0,
                    "tgz": 0.9, "offering": 0.95},
        "researcher": {"company": 1.0, "startup": 1.0, "chair": 0.7, "researcher": 0.7,
                       "tgz": 0.8, "offering": 0.8},
        "chair": {"company": 1.0, "startup": 1.0, "chair": 0.7, "researcher": 0.7,
                  "tgz": 0.8, "offering": 0.8},
        "tgz": {"company": 1.0, "startup": 1.0, "chair": 0.9, "researcher": 0.9, "tgz": 0.6,
                "offering": 0.6},
        "offering": {"company": 1.0, "startup": 1.0, "chair": 0.9, "researcher": 0.9,
                     "tgz": 0.5, "offering": 0.5},
    }, "Kind complementarity: factor per (searching kind, candidate kind), as JSON."),
    Setting("score_midpoint", float, 0.80,
            "Raw match score of a free-text request shown as 50 of 100: where half of the "
            "results are judged good or perfect on corpora/eval (docs/EVALUATION.md)."),
    Setting("profile_score_midpoint", float, 1.20,
            "Raw score shown as 50 of 100 for the partners of a profile (matching a profile), "
            "measured like score_midpoint on the partner cases (docs/EVALUATION.md)."),
    Setting("score_scale", float, 0.05,
            "Raw score difference that moves the 0–100 score by about 23 points."),
    Setting("slam_size", int, 5, "Speakers per Inno Slam line-up (4–6 is usual)."),
    Setting("slam_max_travel_km", float, 160.0,
            "Longest distance from a speaker's institution to the venue (km)."),
    Setting("slam_max_per_institution", int, 2, "At most this many speakers of one institution."),
    Setting("slam_max_stops_per_person", int, 2,
            "In a tour, the most stops one researcher may speak at; beyond the first only when "
            "no one else serves a theme of that stop."),
    Setting("slam_covered_at", float, 0.70,
            "Relevance (needs ↔ researcher, as in matching) from which a speaker serves an SME; "
            "themes where no eligible researcher serves half the SMEs are gaps."),
    Setting("slam_floor", float, 0.62,
            "Relevance below which a researcher adds nothing for an SME (line-up objective)."),
    Setting("slam_balance_weight", float, 0.01,
            "Nudge towards mixed career stages and genders in a line-up (0 = off)."),
    Setting("slam_sample", int, 1000,
            "SMEs whose needs make up a region's demand (and the corpus-wide background of the "
            "theme labels); a region with more is read from an evenly spread sample of this "
            "size, themes weighted by the SMEs they stand for."),
    Setting("slam_candidates", int, 2000,
            "Researchers a line-up weighs exactly; where more are in reach of the venue, those "
            "nearest the demand themes by vector search."),
    Setting("clock_offset_days", float, 0.0,
            "Run the introductions workspace clock this many days ahead (demos and tests of "
            "due follow-ups; keep 0 in production)."),
    Setting(
        "allow_outside",
        bool,
        False,
        "Accept coordinates outside Saxony's bounding box on import.",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def _coerce(setting: Setting, value: Any) -> Any:
    """Convert a raw (usually string) value to the setting's type."""
    is_bool_for_int = setting.type is int and isinstance(value, bool)
    if value is None or (isinstance(value, setting.type) and not is_bool_for_int):
        return value
    text = str(value).strip()
    try:
        if setting.type is bool:
            if text.lower() in {"1", "true", "yes", "ja", "on"}:
                return True
            if text.lower() in {"0", "false", "no", "nein", "off", ""}:
                return False
            raise ValueError(text)
        if setting.type is dict or setting.type is list:
            parsed = json.loads(text)
            if not isinstance(parsed, setting.type):
                raise ValueError(text)
            return parsed
        return setting.type(text)
    except (ValueError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"Einstellung {setting.name} ({setting.env_var}): ungültiger Wert {text!r}, "
            f"erwartet {setting.type.__name__}."
        ) from exc


class Settings:
    """Resolved values of all settings, readable as attributes."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    @property
    def data_path(self) -> Path:
        return Path(self._values["data_dir"])

    def replace(self, **overrides: Any) -> Settings:
        """Return a copy with some values replaced (coerced like any other value)."""
        return Settings({**self._values, **_coerce_all(overrides)})


def _coerce_all(values: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in values.items():
        if name not in _BY_NAME:
            raise ConfigError(f"Unbekannte Einstellung {name!r}.")
        if value is not None:
            out[name] = _coerce(_BY_NAME[name], value)
    return out


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Resolve settings: defaults, then ``MATCHER_*`` environment, then ``overrides``.

    Raises:
        ConfigError: a value cannot be converted or a name is unknown.
    """
    env = os.environ if environ is None else environ
    values = {s.name: s.default for s in SETTINGS}
    values.update(_coerce_all({s.name: env[s.env_var] for s in SETTINGS if s.env_var in env}))
    values.update(_coerce_all(overrides or {}))
    return Settings(values)
