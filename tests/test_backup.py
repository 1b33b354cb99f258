"""Backups: online copy of database + index, verified restore, old state kept on failure."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import tarfile
from pathlib import Path

import pytest

from matcher.backup import BackupError, backup, restore
from matcher.cli import cli
from matcher.indexer import build_index, load_index, read_manifest
from matcher.search import Matcher
from matcher.store import Store
from tests.conftest import PROFILES

HASHING = {"MATCHER_EMBEDDER": "hashing", "MATCHER_SENTENCE_EMBEDDER": "hashing"}


def snapshot(store: Store) -> dict[str, dict]:
    return {p.id: p.to_record() for _, p in store.iter_profiles()}


def top_ids(store: Store, settings, text: str = "Laserstrahlschweißen dünner Bleche") -> list:
    result = Matcher(store, settings).match_text(text, limit=5)
    return [m.profile.id for m in result.matches]


def cli_run(runner, data_dir: Path, *args: str):
    return runner.invoke(cli, ["--data-dir", str(data_dir), *args], env=HASHING,
                         catch_exceptions=False)


def test_cli_round_trip_restores_profiles_and_matches(runner, data_dir, tmp_path, settings):
    assert cli_run(runner, data_dir, "ingest", str(PROFILES)).exit_code == 0
    assert cli_run(runner, data_dir, "index").exit_code == 0
    with Store(data_dir) as s:
        before, matches_before = snapshot(s), top_ids(s, settings)
    assert len(before) == 20 and matches_before

    out = cli_run(runner, data_dir, "backup", str(tmp_path / "sicherung") + "/", "--json")
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert report["profiles"] == 20 and report["index_current"] is True
    assert Path(report["path"]).name.startswith("matcher-backup-")

    # Change one profile, delete two, rebuild the index: the live state now differs.
    changed = tmp_path / "neu.jsonl"
    rec = dict(before["t-co-01"], description="Völlig neue Beschreibung: Holzbau und Möbel.")
    changed.write_text(json.dumps(rec, ensure_ascii=False) + "\n", encoding="utf-8")
    assert cli_run(runner, data_dir, "ingest", str(changed)).exit_code == 0
    assert cli_run(runner, data_dir, "remove", "t-co-02", "t-co-03").exit_code == 0
    assert cli_run(runner, data_dir, "index").exit_code == 0
    with Store(data_dir) as s:
        assert snapshot(s) != before

    out = cli_run(runner, data_dir, "restore", str(tmp_path / "sicherung"), "--yes")
    assert out.exit_code == 0, out.output
    assert "Wiederhergestellt: 20 Profile" in out.output
    with Store(data_dir) as s:
        assert snapshot(s) == before
        load_index(s, settings)  # current without a rebuild
        assert top_ids(s, settings) == matches_before
        assert build_index(s, settings).up_to_date
    assert "Index ist aktuell" in cli_run(runner, data_dir, "index").output


def test_restore_asks_before_overwriting(runner, data_dir, tmp_path, indexed_store):
    target = tmp_path / "b.tar"
    backup(data_dir, target)
    out = runner.invoke(cli, ["--data-dir", str(data_dir), "restore", str(target)], input="n\n")
    assert out.exit_code == 1 and "ersetzen?" in out.output


def test_backup_is_online_and_self_contained(indexed_store, data_dir, tmp_path):
    # A second connection holds a read transaction while the backup runs (online).
    reader = sqlite3.connect(data_dir / "matcher.db")
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM profiles").fetchone()
    report = backup(data_dir, tmp_path / "x.tar.gz")
    reader.rollback()
    reader.close()
    with tarfile.open(report.path) as tar:
        names = tar.getnames()
    assert names[0] == "backup.json" and "matcher.db" in names
    assert not any(n.endswith(("-wal", "-shm")) for n in names)
    build = report.index_build
    assert build and {f"index/{build}/manifest.json", f"index/{build}/docs.faiss",
                      "index/CURRENT"} <= set(names)
    assert not list(tmp_path.glob(".*")), "no temporary files left behind"


def test_restore_into_empty_data_dir(indexed_store, data_dir, tmp_path, settings):
    report = backup(data_dir, tmp_path)
    fresh = tmp_path / "neu"
    restored = restore(report.path, fresh)
    assert restored.profiles == 20
    with Store(fresh) as s:
        assert snapshot(s) == snapshot(indexed_store)
        assert s.applied_migrations() == indexed_store.applied_migrations()
        load_index(s, settings.replace(data_dir=str(fresh)))


def test_backup_without_index_restores_without_index(loaded_store, data_dir, tmp_path,
                                                     settings):
    report = backup(data_dir, tmp_path / "ohne.tar")
    assert report.index_build is None and not report.index_current
    build_index(loaded_store, settings)
    restore(report.path, data_dir)
    assert read_manifest(data_dir) is None  # no index rather than a mismatched one
    with Store(data_dir) as s:
        assert build_index(s, settings).profiles == 20


def test_stale_index_is_recorded_and_detected(indexed_store, data_dir, tmp_path, settings,
                                              gazetteer):
    from matcher.errors import IndexStateError
    from matcher.ingest import ingest_files

    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps({"id": "t-neu", "kind": "company", "name": "Neue GmbH",
                                 "city": "Zwickau", "description": "Neu."}) + "\n", "utf-8")
    ingest_files(indexed_store, [extra], gazetteer)
    report = backup(data_dir, tmp_path / "alt.tar")
    assert report.index_build and not report.index_current
    restore(report.path, data_dir)
    with Store(data_dir) as s, pytest.raises(IndexStateError, match="matcher"):
        load_index(s, settings)


def _damaged(path: Path, tmp_path: Path, edit) -> Path:
    out = tmp_path / "kaputt.tar"
    with tarfile.open(path) as src, tarfile.open(out, "w") as dst:
        for m in src.getmembers():
            data = src.extractfile(m).read()  # type: ignore[union-attr]
            data, m = edit(m, data)
            if m is None:
                continue
            m.size = len(data)
            dst.addfile(m, io.BytesIO(data))
    return out


def _flip_db(m, data):
    if m.name == "matcher.db":
        data = data[:5000] + bytes([data[5000] ^ 0xFF]) + data[5001:]
    return data, m


def _drop_faiss(m, data):
    return data, None if m.name.endswith("docs.faiss") else m


def _escape(m, data):
    if m.name == "index/CURRENT":
        m.name = "../../boese"
    return data, m


@pytest.mark.parametrize("edit, message", [
    (_flip_db, "verändert"),
    (_drop_faiss, "unvollständig"),
    (_escape, "unerwartete Einträge"),
])
def test_damaged_backup_leaves_old_state(indexed_store, data_dir, tmp_path, settings, edit,
                                         message):
    good = backup(data_dir, tmp_path / "gut.tar")
    bad = _damaged(Path(good.path), tmp_path, edit)
    indexed_store.remove(["t-co-02"])
    build_index(indexed_store, settings)
    before, manifest = snapshot(indexed_store), read_manifest(data_dir)
    with pytest.raises(BackupError, match=message):
        restore(bad, data_dir)
    with Store(data_dir) as s:
        assert snapshot(s) == before
    assert read_manifest(data_dir) == manifest
    assert not (tmp_path.parent / "boese").exists()
    assert not [p for p in data_dir.iterdir() if p.name.startswith(".restore-")]


def _with_db(path: Path, tmp_path: Path, change) -> Path:
    """A copy of a backup whose database was changed by ``change(conn or bytes)`` and whose
    checksums were made to match (so only the deeper checks can notice)."""
    with tarfile.open(path) as tar:
        db = tar.extractfile("matcher.db").read()  # type: ignore[union-attr]
    db = change(db)

    def swap(m, data):
        if m.name == "matcher.db":
            data = db
        elif m.name == "backup.json":
            meta = json.loads(data)
            meta["files"]["matcher.db"] = hashlib.sha256(db).hexdigest()
            data = json.dumps(meta).encode()
        return data, m

    return _damaged(path, tmp_path, swap)


def _future(db: bytes) -> bytes:
    conn = sqlite3.connect(":memory:")
    conn.deserialize(db)
    conn.execute("INSERT INTO _migrations VALUES ('m999_future', '2030-01-01')")
    conn.commit()
    return conn.serialize()


def _corrupt(db: bytes) -> bytes:
    page = 4096 * 3  # an interior page of the profile tables: scramble its cell pointers
    return db[:page + 8] + bytes(64) + db[page + 72:]


@pytest.mark.parametrize("change, message", [
    (_future, "neueren matcher-Version.*m999_future"),
    (_corrupt, "beschädigt"),
])
def test_checked_database_is_refused(indexed_store, data_dir, tmp_path, change, message):
    good = backup(data_dir, tmp_path / "gut.tar")
    before = snapshot(indexed_store)
    with pytest.raises(BackupError, match=message):
        restore(_with_db(Path(good.path), tmp_path, change), data_dir)
    with Store(data_dir) as s:
        assert snapshot(s) == before


def test_not_a_backup(tmp_path, data_dir):
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"kein tar")
    with pytest.raises(BackupError, match="nicht lesbar"):
        restore(junk, data_dir)
    with pytest.raises(BackupError, match="keine Sicherung"):
        restore(tmp_path, data_dir)
    with pytest.raises(BackupError, match="Keine Datenbank"):
        backup(tmp_path / "leer", tmp_path / "b.tar")


def test_cli_error_message(runner, data_dir, tmp_path):
    (tmp_path / "leer").mkdir()
    out = runner.invoke(cli, ["--data-dir", str(data_dir), "restore", str(tmp_path / "leer"),
                              "--yes"])
    assert out.exit_code == 1 and "keine Sicherung" in out.output
