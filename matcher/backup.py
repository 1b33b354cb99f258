"""Backups of a data directory: the SQLite database and the current search index in one file.

``backup`` copies the live database with SQLite's online backup API (readers and writers may keep
working) and adds the current index build, so a restored copy answers searches without
re-embedding. ``restore`` checks a backup completely before it changes anything, then copies the
database back with the same API (one transaction) and switches the index pointer atomically.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from matcher.errors import MatcherError
from matcher.indexer import index_lock, index_root, remove_old_builds
from matcher.store import DB_FILENAME, MIGRATIONS

BACKUP_FORMAT = 1
MANIFEST = "backup.json"
PREFIX = "matcher-backup-"
SUFFIXES = (".tar", ".tar.gz", ".tgz")


class BackupError(MatcherError):
    """A backup cannot be written, read or restored; the data directory is unchanged."""


@dataclass
class BackupReport:
    """What ``backup`` wrote or ``restore`` restored."""

    path: str
    profiles: int
    migrations: list[str]
    corpus_digest: str
    index_build: str | None
    index_current: bool
    size_bytes: int = 0
    seconds: float = 0.0
    created_at: str = ""
    files: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out.pop("files")
        return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _digest(conn: sqlite3.Connection) -> str:
    """The store's corpus digest, computed on a plain connection (same formula as the store)."""
    h = hashlib.sha256()
    for pid, chash in conn.execute("SELECT id, content_hash FROM profiles ORDER BY id"):
        h.update(f"{pid}\0{chash}\n".encode())
    return h.hexdigest()


def _describe_db(path: Path) -> tuple[int, list[str], str]:
    """Profile count, applied migrations and corpus digest of a database file.

    Raises:
        BackupError: the file is not an intact matcher database.
    """
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"Datenbank in der Sicherung nicht lesbar ({exc}).") from exc
    try:
        check = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
        if check != ["ok"]:
            raise BackupError("Datenbank in der Sicherung ist beschädigt (integrity_check: "
                              + "; ".join(check[:3]) + ").")
        migrations = [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY name")]
        count = int(conn.execute("SELECT count(*) FROM profiles").fetchone()[0])
        return count, migrations, _digest(conn)
    except sqlite3.DatabaseError as exc:
        raise BackupError("Datenbank in der Sicherung ist beschädigt oder keine "
                          f"matcher-Datenbank ({exc}).") from exc
    finally:
        conn.close()


def _copy_db(source: Path, target: Path) -> None:
    """Consistent copy of a live database (online backup API) into a new file."""
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.execute("PRAGMA busy_timeout = 30000")
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = DELETE")
    finally:
        dst.close()
        src.close()


def _snapshot_index(data_dir: Path, staging: Path) -> tuple[str | None, dict[str, Any] | None]:
    """Copy the current index build into ``staging/index/<build>``; a build replaced by a
    concurrent ``matcher index`` while copying is retried with the new one."""
    root = index_root(data_dir)
    for _ in range(5):
        pointer = root / "CURRENT"
        if not pointer.exists():
            return None, None
        name = pointer.read_text(encoding="utf-8").strip()
        target = staging / "index" / name
        shutil.rmtree(staging / "index", ignore_errors=True)
        try:
            shutil.copytree(root / name, target)
            manifest: dict[str, Any] = json.loads((target / "manifest.json").read_text("utf-8"))
        except (OSError, json.JSONDecodeError):
            time.sleep(0.2)
            continue
        if pointer.read_text(encoding="utf-8").strip() == name:
            (staging / "index" / "CURRENT").write_text(name, encoding="utf-8")
            return name, manifest
    raise BackupError("Der Suchindex wurde während der Sicherung ständig neu gebaut — "
                      "bitte nach 'matcher index' erneut sichern.")


def backup_target(target: str | Path, now: _dt.datetime | None = None) -> Path:
    """The file a backup to ``target`` goes to: a file name as given, or for a directory a new
    ``matcher-backup-<UTC time>.tar`` inside it."""
    path = Path(target)
    if path.is_dir() or str(target).endswith(("/", os.sep)):
        stamp = (now or _dt.datetime.now(_dt.UTC)).strftime("%Y%m%dT%H%M%S")
        return path / f"{PREFIX}{stamp}.tar"
    return path


def backup(data_dir: str | Path, target: str | Path) -> BackupReport:
    """Write a backup of ``data_dir`` (database + current index build) to ``target``.

    ``target`` is a file (``.tar``; ``.tar.gz``/``.tgz`` compress) or an existing directory,
    which receives ``matcher-backup-<time>.tar``. The file appears atomically (temp + rename).

    Raises:
        BackupError: there is no database, or the copy is not intact.
    """
    started = time.perf_counter()
    data = Path(data_dir)
    db = data / DB_FILENAME
    if not db.exists():
        raise BackupError(f"Keine Datenbank in {data} — nichts zu sichern "
                          "(erst 'matcher ingest' ausführen oder --data-dir prüfen).")
    out = backup_target(target)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".matcher-backup-") as tmp:
        staging = Path(tmp)
        _copy_db(db, staging / DB_FILENAME)
        count, migrations, digest = _describe_db(staging / DB_FILENAME)
        build, manifest = _snapshot_index(data, staging)
        members = [DB_FILENAME] + ([str(p.relative_to(staging)) for p in sorted(
            (staging / "index").rglob("*")) if p.is_file()] if build else [])
        files = {m: _sha256(staging / m) for m in members}
        created = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        current = bool(manifest and manifest.get("corpus_digest") == digest)
        meta = {
            "format": BACKUP_FORMAT, "created_at": created, "profiles": count,
            "migrations": migrations, "corpus_digest": digest, "index_build": build,
            "index_current": current, "files": files,
        }
        (staging / MANIFEST).write_text(json.dumps(meta, ensure_ascii=False, indent=1),
                                        encoding="utf-8")
        mode = "w:gz" if out.name.endswith((".gz", ".tgz")) else "w"
        part = out.parent / f".{out.name}.{uuid.uuid4().hex[:8]}.part"
        try:
            with tarfile.open(part, mode) as tar:  # type: ignore[call-overload]
                for name in [MANIFEST, *members]:
                    tar.add(staging / name, arcname=name, recursive=False)
            with open(part, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(part, out)
        finally:
            part.unlink(missing_ok=True)
    return BackupReport(str(out), count, migrations, digest, build, current,
                        out.stat().st_size, time.perf_counter() - started, created, files)


def find_backup(source: str | Path) -> Path:
    """The backup file named by ``source``: the file itself, or the newest
    ``matcher-backup-*`` file in a directory.

    Raises:
        BackupError: nothing suitable exists.
    """
    path = Path(source)
    if path.is_dir():
        found = sorted(p for p in path.iterdir()
                       if p.name.startswith(PREFIX) and p.name.endswith(SUFFIXES))
        if not found:
            raise BackupError(f"In {path} liegt keine Sicherung ({PREFIX}….tar).")
        return found[-1]
    if not path.is_file():
        raise BackupError(f"Sicherung {path} nicht gefunden.")
    return path


def _safe_member(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return bool(parts) and not PurePosixPath(name).is_absolute() and ".." not in parts


def _unpack(path: Path, staging: Path) -> dict[str, Any]:
    """Extract the backup's regular files into ``staging`` and return its manifest, after
    checking names, checksums, database and index.

    Raises:
        BackupError: anything is missing, unexpected or altered.
    """
    try:
        with tarfile.open(path, "r:*") as tar:
            members = tar.getmembers()
            names = [m.name for m in members]
            if MANIFEST not in names:
                raise BackupError(f"{path} ist keine matcher-Sicherung ({MANIFEST} fehlt).")
            meta_file = tar.extractfile(MANIFEST)
            if meta_file is None:
                raise BackupError(f"{path}: {MANIFEST} ist keine Datei.")
            meta: dict[str, Any] = json.load(io.TextIOWrapper(meta_file, encoding="utf-8"))
            if meta.get("format") != BACKUP_FORMAT or not isinstance(meta.get("files"), dict):
                raise BackupError(f"{path}: unbekanntes Sicherungsformat {meta.get('format')!r}.")
            expected = set(meta["files"]) | {MANIFEST}
            unexpected = [n for n in names if n not in expected or not _safe_member(n)]
            if unexpected or len(names) != len(set(names)):
                raise BackupError(f"{path}: unerwartete Einträge in der Sicherung: "
                                  + ", ".join(unexpected[:5]))
            for m in members:
                if not m.isfile():
                    raise BackupError(f"{path}: Eintrag {m.name} ist keine normale Datei.")
                fh = tar.extractfile(m)
                assert fh is not None
                dest = staging / m.name
                dest.parent.mkdir(parents=True, exist_ok=True)
                with open(dest, "wb") as out:
                    shutil.copyfileobj(fh, out)
    except (tarfile.TarError, OSError, EOFError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BackupError(f"{path} ist nicht lesbar oder unvollständig ({exc}).") from exc
    missing = [n for n in meta["files"] if not (staging / n).is_file()]
    altered = [n for n, h in meta["files"].items()
               if n not in missing and _sha256(staging / n) != h]
    if missing or altered:
        raise BackupError(f"{path}: Sicherung unvollständig oder verändert ("
                          + ", ".join((missing + altered)[:5]) + ") — nichts wiederhergestellt.")
    return meta


def _check_backup(path: Path, staging: Path, meta: dict[str, Any]) -> tuple[int, list[str], str]:
    count, migrations, digest = _describe_db(staging / DB_FILENAME)
    known = {m.__name__ for m in MIGRATIONS}
    unknown = [m for m in migrations if m not in known]
    if unknown:
        raise BackupError(f"{path} stammt von einer neueren matcher-Version (unbekannte "
                          f"Migration(en) {', '.join(unknown)}) — bitte matcher aktualisieren.")
    if count != meta.get("profiles") or digest != meta.get("corpus_digest"):
        raise BackupError(f"{path}: Datenbank passt nicht zum Inhaltsverzeichnis der Sicherung.")
    build = meta.get("index_build")
    if build is not None:
        if not str(build).startswith("build-") or "/" in str(build):
            raise BackupError(f"{path}: ungültiger Name des Index-Builds {build!r}.")
        manifest_path = staging / "index" / str(build) / "manifest.json"
        try:
            manifest = json.loads(manifest_path.read_text("utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise BackupError(f"{path}: Index-Manifest fehlt oder ist unlesbar.") from exc
        if bool(manifest.get("corpus_digest") == digest) != bool(meta.get("index_current")):
            raise BackupError(f"{path}: Index-Manifest passt nicht zur Sicherung.")
    return count, migrations, digest


def _restore_db(staged: Path, live: Path) -> None:
    """Copy the staged database over the live one in one write transaction (online backup
    API): open connections see either the old or the restored content."""
    src = sqlite3.connect(f"file:{staged}?mode=ro", uri=True)
    dst = sqlite3.connect(live, timeout=30)
    try:
        dst.execute("PRAGMA busy_timeout = 30000")
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = WAL")
    except sqlite3.Error as exc:
        raise BackupError(f"Datenbank konnte nicht zurückgeschrieben werden ({exc}) — der "
                          "alte Stand ist unverändert.") from exc
    finally:
        dst.close()
        src.close()


def _install_index(staging: Path, data_dir: Path, build: str) -> Path:
    """Copy the staged build into the index folder under a fresh name, not yet current (call
    under ``index_lock``; a copy cut short is removed by the next build)."""
    root = index_root(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    dest = root / f"build-{stamp}-{uuid.uuid4().hex[:8]}-restored"
    shutil.copytree(staging / "index" / build, dest)
    for f in dest.iterdir():
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())
    return dest


def _switch_index(data_dir: Path, build: Path | None) -> None:
    """Point ``CURRENT`` at ``build`` (or remove it when the backup had no index) atomically,
    then drop every other build (call under ``index_lock``)."""
    root = index_root(data_dir)
    pointer = root / "CURRENT"
    if build is None:
        pointer.unlink(missing_ok=True)
    else:
        tmp = root / f".CURRENT-{uuid.uuid4().hex[:8]}"
        tmp.write_text(build.name, encoding="utf-8")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, pointer)
    remove_old_builds(root, (build.name,) if build else ())


def restore(source: str | Path, data_dir: str | Path) -> BackupReport:
    """Replace the database and index of ``data_dir`` with a backup.

    The backup is unpacked and verified first (checksums, ``PRAGMA integrity_check``, known
    migrations, index manifest); only then is the database copied back in one transaction and
    the index pointer switched. If anything fails the old state stays in place.

    Raises:
        BackupError: the backup is missing, damaged, from a newer version, or cannot be applied.
    """
    started = time.perf_counter()
    path = find_backup(source)
    data = Path(data_dir)
    data.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=data, prefix=".restore-") as tmp:
        staging = Path(tmp)
        meta = _unpack(path, staging)
        count, migrations, digest = _check_backup(path, staging, meta)
        build = meta.get("index_build")
        with index_lock(data):  # no concurrent build may remove or replace ours meanwhile
            installed = _install_index(staging, data, str(build)) if build else None
            try:
                _restore_db(staging / DB_FILENAME, data / DB_FILENAME)
            except BaseException:
                if installed is not None:
                    shutil.rmtree(installed, ignore_errors=True)
                raise
            _switch_index(data, installed)
    return BackupReport(str(path), count, migrations, digest,
                        installed.name if installed else None, bool(meta.get("index_current")),
                        path.stat().st_size, time.perf_counter() - started,
                        str(meta.get("created_at", "")), dict(meta["files"]))
