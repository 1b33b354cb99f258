from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import pytest

import matcher.indexer as indexer
from matcher.errors import IndexStateError
from matcher.indexer import build_index, load_index, read_manifest
from matcher.ingest import ingest_files


class CountingFactory:
    """Wraps the embedder factory to count model calls."""

    def __init__(self, monkeypatch):
        self.calls = 0
        real = indexer.create_embedder

        def factory(settings, name=None):
            emb = real(settings, name)
            original = emb.encode_documents

            def counted(texts):
                self.calls += len(texts)
                return original(texts)

            emb.encode_documents = counted
            return emb

        monkeypatch.setattr(indexer, "create_embedder", factory)


def test_build_then_unchanged_run_makes_no_model_call(loaded_store, settings, monkeypatch):
    counter = CountingFactory(monkeypatch)
    first = build_index(loaded_store, settings)
    assert first.embedded == 20 and first.profiles == 20 and counter.calls > 0
    calls = counter.calls
    second = build_index(loaded_store, settings)
    assert second.up_to_date and counter.calls == calls
    manifest = read_manifest(loaded_store.data_dir)
    assert manifest["model_id"] == "hashing-256" and manifest["count"] == 20
    assert manifest["corpus_digest"] == loaded_store.corpus_digest()


def test_incremental_update_embeds_only_changes(indexed_store, settings, gazetteer, tmp_path,
                                                monkeypatch):
    counter = CountingFactory(monkeypatch)
    changed = tmp_path / "neu.jsonl"
    changed.write_text(json.dumps({"id": "t-co-06", "kind": "company", "name": "Bäckerei Lindner",
                                   "city": "Torgau", "description": "Jetzt mit Konditorei."}),
                       encoding="utf-8")
    ingest_files(indexed_store, [changed], gazetteer)
    indexed_store.remove(["t-co-09"])
    report = build_index(indexed_store, settings)
    assert report.incremental and report.embedded == 1 and report.reused == 18
    assert report.removed == 2 and report.added == 1
    assert counter.calls == 1 + report.sentences_embedded
    loaded = load_index(indexed_store, settings)
    assert loaded.docs.ntotal == 19


def test_deleted_profile_leaves_no_cached_vectors(indexed_store, settings):
    text = indexed_store.get("t-co-08").description
    indexed_store.remove(["t-co-08"])
    build_index(indexed_store, settings)
    loaded = load_index(indexed_store, settings)
    assert text not in set(loaded.sent_text.tolist())
    pk_count = indexed_store.db.execute("SELECT count(*) FROM embeddings").fetchone()[0]
    rebuilt = build_index(indexed_store, settings, force=True)
    assert rebuilt.pruned == 0
    assert pk_count == indexed_store.db.execute("SELECT count(*) FROM embeddings").fetchone()[0]


def test_stale_or_mismatched_index_is_refused_with_the_fix(indexed_store, settings, gazetteer,
                                                            tmp_path):
    other = settings.replace(embedder="use")
    with pytest.raises(IndexStateError) as exc:
        load_index(indexed_store, other)
    assert "matcher --data-dir" in exc.value.message and "index" in exc.value.message
    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps({"id": "n-1", "kind": "company", "name": "Neu", "city": "Riesa",
                                 "description": "Neue Firma"}), encoding="utf-8")
    ingest_files(indexed_store, [extra], gazetteer)
    with pytest.raises(IndexStateError) as exc:
        load_index(indexed_store, settings)
    assert "veraltet" in exc.value.message


def test_failed_build_keeps_previous_index(indexed_store, settings, gazetteer, tmp_path,
                                           monkeypatch):
    before = read_manifest(indexed_store.data_dir)
    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps({"id": "n-2", "kind": "company", "name": "Neu", "city": "Riesa",
                                 "description": "Neue Firma"}), encoding="utf-8")
    ingest_files(indexed_store, [extra], gazetteer)

    def boom(*args, **kwargs):
        raise OSError("Platte voll")

    monkeypatch.setattr(indexer.SparseIndex, "save", boom)
    with pytest.raises(OSError):
        build_index(indexed_store, settings)
    assert read_manifest(indexed_store.data_dir)["path"] == before["path"]
    monkeypatch.undo()
    report = build_index(indexed_store, settings)
    assert report.profiles == 21 and load_index(indexed_store, settings).docs.ntotal == 21


@pytest.mark.slow
def test_sigkill_during_index_leaves_a_loadable_index(tmp_path, gazetteer):
    """Kill `matcher index` at several moments: the old or the new build loads, never half."""
    from matcher.settings import load_settings
    from matcher.store import Store
    from matcher.synthetic import generate_profiles

    data = tmp_path / "inst"
    env = {**os.environ, "MATCHER_DATA_DIR": str(data), "MATCHER_EMBEDDER": "hashing",
           "MATCHER_SENTENCE_EMBEDDER": "hashing"}
    settings = load_settings(environ=env)
    cmd = [sys.executable, "-m", "matcher.cli.__main__"]
    records = list(generate_profiles(1500, gazetteer, seed=1))
    rng = np.random.default_rng(5)
    for round_no in range(4):
        batch = tmp_path / f"b{round_no}.jsonl"
        batch.write_text("\n".join(json.dumps(r, ensure_ascii=False)
                                   for r in records[round_no * 300:(round_no + 1) * 300 + 300]),
                         encoding="utf-8")
        subprocess.run([*cmd, "ingest", str(batch)], env=env, check=True, capture_output=True)
        proc = subprocess.Popen([*cmd, "index"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(float(rng.uniform(0.5, 4.0)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with Store(data) as store:
            manifest = read_manifest(data)
            if manifest is not None:  # old or new build: whichever it is, it is whole
                loaded_docs = indexer.FaissIndex.load(indexer.Path(manifest["path"]) / "docs.faiss")
                assert loaded_docs.ntotal == manifest["count"]
        subprocess.run([*cmd, "index"], env=env, check=True, capture_output=True)
        with Store(data) as store:
            assert load_index(store, settings).docs.ntotal == store.count()


def test_change_of_unranked_fields_only_restamps_the_build(indexed_store, settings, gazetteer,
                                                           monkeypatch):
    from matcher.profiles import update_profile

    before = read_manifest(indexed_store.data_dir)
    counter = CountingFactory(monkeypatch)
    update_profile(indexed_store, gazetteer, "t-co-02", {"employees": 77,
                                                        "website": "https://example.org"})
    report = build_index(indexed_store, settings)
    after = read_manifest(indexed_store.data_dir)
    assert report.restamped and report.up_to_date and counter.calls == 0
    assert after["path"] == before["path"]  # the same build, no files written anew
    assert after["corpus_digest"] == indexed_store.corpus_digest() != before["corpus_digest"]
    assert load_index(indexed_store, settings).manifest["corpus_digest"] == after["corpus_digest"]
    assert not list(indexer.Path(after["path"]).glob(".manifest-*"))  # temp file renamed

    update_profile(indexed_store, gazetteer, "t-co-02", {"needs": "Wir suchen Kalibrierlabore."})
    report = build_index(indexed_store, settings)
    assert not report.restamped and report.embedded == 1
    assert read_manifest(indexed_store.data_dir)["path"] != before["path"]


def test_restamp_needs_the_ranked_digest_of_the_build(indexed_store, settings, gazetteer):
    from matcher.profiles import update_profile

    manifest = read_manifest(indexed_store.data_dir)
    build = indexer.Path(manifest["path"])
    old = {k: v for k, v in manifest.items() if k not in ("path", "ranked_digest")}
    (build / "manifest.json").write_text(json.dumps(old), encoding="utf-8")  # an older build
    update_profile(indexed_store, gazetteer, "t-co-02", {"employees": 5})
    report = build_index(indexed_store, settings)
    assert not report.restamped and not report.up_to_date


def _same_build(a, b) -> None:
    """Two loaded builds hold the same profiles, vectors, sentences and keyword rows."""
    assert np.array_equal(np.sort(a.docs.ids()), np.sort(b.docs.ids()))
    ids = np.sort(a.docs.ids())
    assert np.allclose(a.docs.vectors(ids), b.docs.vectors(ids), atol=1e-6)
    assert a.sent_text.tolist() == b.sent_text.tolist()
    assert np.array_equal(a.sent_owner, b.sent_owner)
    assert np.array_equal(a.sent_field, b.sent_field)
    assert np.allclose(a.sent_vectors, b.sent_vectors, atol=1e-6)
    assert np.array_equal(a.sparse.ids, b.sparse.ids)


def test_build_from_the_loaded_index_equals_a_build_from_files(indexed_store, settings,
                                                              gazetteer, tmp_path, monkeypatch):
    before = load_index(indexed_store, settings)
    old_sentences = {s for _, s in indexer.profile_sentences(indexed_store.get("t-co-06"))}
    deleted_pk = indexed_store.pk_of("t-co-09")
    edit = tmp_path / "edit.jsonl"
    edit.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"id": "t-co-06", "kind": "company", "name": "Bäckerei Lindner", "city": "Torgau",
         "description": "Jetzt mit Konditorei. Wir backen Stollen.",
         "needs": "Wir suchen eine Kühlung für die Backstube."},
        {"id": "t-co-99", "kind": "company", "name": "Neue Feinmechanik GmbH",
         "city": "Freiberg", "description": "Feinmechanik für Messgeräte.",
         "offers": "Wir fräsen Gehäuse aus Aluminium."}]), encoding="utf-8")
    ingest_files(indexed_store, [edit], gazetteer)
    indexed_store.remove(["t-co-09"])
    counter = CountingFactory(monkeypatch)
    report = build_index(indexed_store, settings, reuse=before)
    # only the two new profile texts and their sentences went through the model
    changed = [indexed_store.get(i) for i in ("t-co-06", "t-co-99")]
    new_sentences = {s for p in changed for _, s in indexer.profile_sentences(p)}
    assert report.sentences_embedded == len(new_sentences)
    assert counter.calls == 2 + len(new_sentences)
    assert report.sentences_reused == len(report.loaded.sent_text) - len(new_sentences)
    from_disk = load_index(indexed_store, settings)
    assert report.loaded.manifest["path"] == from_disk.manifest["path"]
    _same_build(report.loaded, from_disk)
    _same_build(report.loaded, build_index(indexed_store, settings, force=True).loaded)
    texts = set(report.loaded.sent_text.tolist())
    assert new_sentences <= texts and not (old_sentences - new_sentences) & texts
    assert deleted_pk not in report.loaded.sent_owner.tolist()


def test_reuse_of_another_build_is_ignored(indexed_store, settings):
    stale = load_index(indexed_store, settings)
    build_index(indexed_store, settings, force=True)  # a newer build replaces ``stale``'s
    # were the stale arrays taken, these zero vectors would end up in the new build
    tampered = replace(stale, sent_vectors=np.zeros_like(stale.sent_vectors))
    indexed_store.remove(["t-co-09"])
    report = build_index(indexed_store, settings, reuse=tampered)
    assert np.abs(report.loaded.sent_vectors).sum(axis=1).min() > 0
    _same_build(report.loaded, load_index(indexed_store, settings))


def test_sentence_vectors_in_memory_or_read_from_their_file(indexed_store, settings):
    from pathlib import Path

    from matcher.errors import ConfigError
    from matcher.rows import StoredRows, StoredTexts

    assert settings.sentence_storage == "memory"  # the default
    report = build_index(indexed_store, settings, force=True)
    build = Path(report.manifest["path"])
    in_memory = load_index(indexed_store, settings)
    assert isinstance(in_memory.sent_vectors, np.ndarray)
    assert isinstance(report.loaded.sent_vectors, np.ndarray)
    disk = settings.replace(sentence_storage="disk")
    loaded = load_index(indexed_store, disk)
    assert isinstance(loaded.sent_vectors, StoredRows)
    assert loaded.sent_vectors.path == build / indexer.SENTENCE_VECTORS_FILE
    assert np.array_equal(np.asarray(loaded.sent_vectors), in_memory.sent_vectors)
    indexed_store.remove(["t-co-09"])
    after = build_index(indexed_store, disk, reuse=loaded)  # served from the file after a build
    assert isinstance(after.loaded.sent_vectors, StoredRows)
    assert after.loaded.sent_vectors.path.parent == Path(after.manifest["path"])
    _same_build(after.loaded, load_index(indexed_store, settings))
    wrong = settings.replace(sentence_storage="ssd")
    for call in (lambda: load_index(indexed_store, wrong),
                 lambda: build_index(indexed_store, wrong, force=True)):
        with pytest.raises(ConfigError, match=r"sentence_storage='ssd'.*memory, disk"):
            call()
    build, now = Path(after.manifest["path"]), after.loaded
    with np.load(build / "sentences.npz", allow_pickle=True) as z:
        assert "vectors" not in z.files  # the vectors are stored once
    assert len(now.sent_vectors) == len(now.sent_text) > 0
    # a build written before the vectors had a file of their own still loads the same
    with np.load(build / "sentences.npz", allow_pickle=True) as z:
        rest = {k: z[k] for k in z.files}
    np.savez(str(build / "sentences.npz"), vectors=np.asarray(now.sent_vectors), **rest)
    (build / indexer.SENTENCE_VECTORS_FILE).unlink()
    old = indexer._load_build(build, after.manifest, disk)
    assert isinstance(old.sent_vectors, np.ndarray)
    assert np.array_equal(old.sent_vectors, np.asarray(now.sent_vectors))
    assert old.sent_text.tolist() == now.sent_text.tolist()
    # texts: one UTF-8 file, read in at load or piece by piece (disk); before session 7 they
    # were a pickled object array in the .npz, which still loads
    assert isinstance(now.sent_text, StoredTexts)
    assert isinstance(load_index(indexed_store, settings).sent_text, StoredTexts)
    pickled = np.empty(len(now.sent_text), dtype=object)
    pickled[:] = now.sent_text.tolist()
    np.savez(str(build / "sentences.npz"), vectors=np.asarray(now.sent_vectors),
             owner=rest["owner"], field=rest["field"], text=pickled)
    (build / indexer.SENTENCE_TEXTS_FILE).unlink()
    oldest = indexer._load_build(build, after.manifest, disk)
    assert isinstance(oldest.sent_text, np.ndarray)
    assert oldest.sent_text.tolist() == now.sent_text.tolist()


def test_keyword_matrix_in_memory_or_read_from_its_files(indexed_store, settings, gazetteer):
    from pathlib import Path

    from matcher.errors import ConfigError
    from matcher.rows import StoredSparse
    from matcher.search import Matcher

    assert settings.sparse_storage == "memory"  # the default
    build_index(indexed_store, settings, force=True)
    disk = settings.replace(sparse_storage="disk")
    loaded = load_index(indexed_store, disk)
    assert isinstance(loaded.sparse._matrix, StoredSparse)
    assert not isinstance(load_index(indexed_store, settings).sparse._matrix, StoredSparse)
    requests = ["Labor für Oberflächenanalytik", "Schweißen von Edelstahl in Chemnitz"]
    for text in requests:  # the same answers, read from memory or from the files
        a = Matcher(indexed_store, settings, gazetteer).match_text(text, limit=8)
        b = Matcher(indexed_store, disk, gazetteer, index=loaded).match_text(text, limit=8)
        assert a.matches and [m.profile.id for m in a.matches] == [m.profile.id
                                                                   for m in b.matches]
        assert [m.raw for m in a.matches] == pytest.approx([m.raw for m in b.matches],
                                                           abs=1e-6)
    indexed_store.remove(["t-co-09"])
    after = build_index(indexed_store, disk, reuse=loaded)  # an update serves from the files
    assert isinstance(after.loaded.sparse._matrix, StoredSparse)
    assert after.loaded.sparse._matrix.prefix.parent == Path(after.manifest["path"])
    assert indexed_store.pk_of("t-co-09") is None
    assert np.array_equal(after.loaded.sparse.ids,
                          load_index(indexed_store, settings).sparse.ids)
    wrong = settings.replace(sparse_storage="ram")
    for call in (lambda: load_index(indexed_store, wrong),
                 lambda: build_index(indexed_store, wrong, force=True)):
        with pytest.raises(ConfigError, match=r"sparse_storage='ram'.*memory, disk"):
            call()


def test_content_hashes_live_beside_the_manifest(indexed_store, settings):
    from pathlib import Path

    manifest = read_manifest(indexed_store.data_dir)
    assert not set(indexer.HASH_KEYS) & set(manifest)  # the manifest stays small
    hashes = indexer.build_hashes(manifest)
    assert len(hashes["doc_hashes"]) == len(hashes["sparse_hashes"]) == manifest["count"] > 0
    assert "doc_hashes" not in load_index(indexed_store, settings).manifest
    # a build that kept them in its manifest (before session 7) is still updated in place
    build = Path(manifest["path"])
    (build / "manifest.json").write_text(json.dumps({**manifest, **hashes}), encoding="utf-8")
    (build / indexer.HASHES_FILE).unlink()
    assert indexer.build_hashes(read_manifest(indexed_store.data_dir)) == hashes
    gone = str(indexed_store.pk_of("t-co-09"))
    indexed_store.remove(["t-co-09"])
    report = build_index(indexed_store, settings)
    assert report.embedded == 0 and report.incremental
    after = indexer.build_hashes(report.manifest)
    assert after["doc_hashes"] == {k: v for k, v in hashes["doc_hashes"].items() if k != gone}
    assert indexer.build_hashes(None) == {"doc_hashes": {}, "sparse_hashes": {}}


def test_fresh_build_writes_sentence_vectors_to_their_file_and_leaves_no_spill(
        indexed_store, settings, monkeypatch):
    from pathlib import Path

    root = indexer.index_root(indexed_store.data_dir)
    report = build_index(indexed_store, settings, force=True)
    assert not list(root.glob(".sentences-*"))
    stored = np.load(Path(report.manifest["path"]) / indexer.SENTENCE_VECTORS_FILE)
    assert stored.shape[0] == len(report.loaded.sent_text) > 0
    assert isinstance(report.loaded.sent_vectors, np.ndarray)
    assert not isinstance(report.loaded.sent_vectors, np.memmap)
    assert np.array_equal(stored, report.loaded.sent_vectors)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    # a spill file left by a build whose process died goes with the next build
    stale = root / f"{indexer.SPILL_PREFIX}999999999-dead.npy"
    stale.write_bytes(b"x")
    build_index(indexed_store, settings, force=True)
    assert not stale.exists()
    monkeypatch.setattr(indexer, "_write_build", broken)
    with pytest.raises(OSError, match="disk full"):
        build_index(indexed_store, settings, force=True)
    assert not list(root.glob(".sentences-*"))


def test_build_without_the_previous_hashes_starts_afresh(indexed_store, settings):
    # e.g. a concurrent builder removed the previous build between reading its manifest and
    # its hashes: its index must not be extended as if it were empty
    from pathlib import Path

    manifest = read_manifest(indexed_store.data_dir)
    (Path(manifest["path"]) / indexer.HASHES_FILE).unlink()
    indexed_store.remove(["t-co-09"])
    report = build_index(indexed_store, settings)
    assert not report.incremental
    loaded = load_index(indexed_store, settings)
    assert loaded.docs.ntotal == manifest["count"] - 1 == len(np.unique(loaded.docs.ids()))
