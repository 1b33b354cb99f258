"""SQLite profile store (sqlite-utils): the only module that speaks SQL.

Schema changes are numbered migrations applied on open. SQLite row ids (``pk``) are stable and
double as FAISS ids.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sqlite_utils

from matcher.errors import MatcherError, NotFoundError
from matcher.models import PROFILE_FIELDS, Profile

DB_FILENAME = "matcher.db"
FTS_COLUMNS = ("name", "description", "offers", "needs", "keywords")


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def m001_profiles(db: sqlite_utils.Database) -> None:
    """Profiles with stable integer ids, FTS5 over the German text, import log."""
    columns: dict[str, Any] = {"pk": int, "id": str}
    for name in PROFILE_FIELDS:
        if name == "id":
            continue
        columns[name] = float if name in ("lat", "lon") else int if name in (
            "employees", "founded") else str
    columns.update({"extra": str, "content_hash": str, "created_at": str, "updated_at": str})
    db.table("profiles").create(columns, pk="pk", not_null={"id", "kind", "name", "description"})
    db.table("profiles").create_index(["id"], unique=True)
    db.table("profiles").create_index(["kind"])
    db.table("profiles").create_index(["district"])
    db.table("profiles").create_index(["parent"])
    db.table("profiles").enable_fts(list(FTS_COLUMNS), create_triggers=True,
                              tokenize="unicode61 remove_diacritics 2")
    db.table("import_log").create({
        "pk": int, "started_at": str, "finished_at": str, "files": str, "inserted": int,
        "updated": int, "unchanged": int, "rejected": int, "warnings": int, "status": str,
    }, pk="pk")


def m002_embedding_cache(db: sqlite_utils.Database) -> None:
    """Vectors keyed by (model id, hash of the exact text embedded)."""
    db.table("embeddings").create(
        {"model_id": str, "text_hash": str, "dim": int, "vector": bytes},
        pk=("model_id", "text_hash"),
    )


def m003_accounts_intros(db: sqlite_utils.Database) -> None:
    """Users, shortlists, introductions with their status history, and the audit log."""
    db.table("users").create({
        "pk": int, "username": str, "display_name": str, "email": str, "role": str,
        "password_hash": str, "password_changed_at": str, "created_at": str,
    }, pk="pk", not_null={"username", "role", "password_hash"})
    db.table("users").create_index(["username"], unique=True)
    db.table("shortlists").create({
        "pk": int, "name": str, "client_id": str, "owner": int, "created_at": str,
    }, pk="pk", not_null={"name", "client_id", "owner"}, foreign_keys=[("owner", "users", "pk")])
    db.table("shortlists").create_index(["client_id"])
    db.table("shortlist_items").create({
        "shortlist": int, "profile_id": str, "note": str, "added_by": int, "added_at": str,
    }, pk=("shortlist", "profile_id"), foreign_keys=[("shortlist", "shortlists", "pk")])
    db.table("introductions").create({
        "pk": int, "client_id": str, "partner_id": str, "owner": int, "status": str,
        "reason": str, "outcome": str, "subject": str, "body": str, "note": str,
        "created_at": str, "updated_at": str, "status_changed_at": str, "followed_up_at": str,
    }, pk="pk", not_null={"client_id", "partner_id", "owner", "status"},
        foreign_keys=[("owner", "users", "pk")])
    db.table("introductions").create_index(["client_id", "partner_id"], unique=True)
    db.table("introductions").create_index(["partner_id"])
    db.table("intro_events").create({
        "pk": int, "intro": int, "at": str, "actor": str, "from_status": str, "to_status": str,
        "note": str,
    }, pk="pk", foreign_keys=[("intro", "introductions", "pk")])
    db.table("intro_events").create_index(["intro"])
    db.table("audit_log").create({
        "pk": int, "at": str, "actor": str, "action": str, "object": str, "detail": str,
    }, pk="pk")


def m004_api_tokens(db: sqlite_utils.Database) -> None:
    """API tokens of machine clients: SHA-256 of the secret, scopes, expiry, last use."""
    db.table("api_tokens").create({
        "pk": int, "name": str, "token_hash": str, "prefix": str, "scopes": str,
        "created_at": str, "expires_at": str, "last_used_at": str, "revoked_at": str,
    }, pk="pk", not_null={"name", "token_hash", "scopes"})
    db.table("api_tokens").create_index(["token_hash"], unique=True)


MIGRATIONS: tuple[Callable[[sqlite_utils.Database], None], ...] = (
    m001_profiles, m002_embedding_cache, m003_accounts_intros, m004_api_tokens,
)


@dataclass
class UpsertCounts:
    """What an upsert did."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


class Store:
    """Profile storage in one SQLite file under the data directory."""

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / DB_FILENAME
        conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self.db = sqlite_utils.Database(conn)
        self.db.execute("PRAGMA busy_timeout = 30000")
        self.db.execute("PRAGMA foreign_keys = ON")
        if self.db.journal_mode != "wal":
            self.db.enable_wal()
        self._migrate()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema -------------------------------------------------------------
    def _migrate(self) -> None:
        if self._migrated():  # the usual case: no write lock for opening a connection
            return
        with self.transaction():
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)"
            )
            done = {r[0] for r in self.db.execute("SELECT name FROM _migrations").fetchall()}
            for migration in MIGRATIONS:
                if migration.__name__ not in done:
                    migration(self.db)
                    self.db.table("_migrations").insert(
                        {"name": migration.__name__, "applied_at": _now()}
                    )

    def _migrated(self) -> bool:
        try:
            done = {r[0] for r in self.db.execute("SELECT name FROM _migrations")}
        except sqlite3.OperationalError:  # a new database
            return False
        return all(m.__name__ in done for m in MIGRATIONS)

    def applied_migrations(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT name FROM _migrations ORDER BY name")]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all."""
        conn = self.db.conn
        if conn.in_transaction:
            yield
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    # -- reads --------------------------------------------------------------
    def get(self, profile_id: str) -> Profile:
        """Return one profile by id.

        Raises:
            NotFoundError: no profile has this id.
        """
        cur = self.db.execute("SELECT * FROM profiles WHERE id = ?", [profile_id])
        row = cur.fetchone()
        if row is None:
            raise NotFoundError(f"Kein Profil mit der id {profile_id!r}.")
        return Profile.from_row(dict(zip([c[0] for c in cur.description], row, strict=True)))

    def pk_of(self, profile_id: str) -> int | None:
        row = self.db.execute("SELECT pk FROM profiles WHERE id = ?", [profile_id]).fetchone()
        return None if row is None else int(row[0])

    def _pk(self, profile_id: str) -> int:
        pk = self.pk_of(profile_id)
        if pk is None:
            raise NotFoundError(f"Kein Profil mit der id {profile_id!r}.")
        return pk

    def hashes(self) -> dict[str, str]:
        """Map of profile id to content hash."""
        return dict(self.db.execute("SELECT id, content_hash FROM profiles").fetchall())

    def kinds(self) -> dict[str, str]:
        """Map of profile id to kind."""
        return dict(self.db.execute("SELECT id, kind FROM profiles").fetchall())

    def iter_profiles(self, kinds: Iterable[str] | None = None,
                      category: str | None = None) -> Iterator[tuple[int, Profile]]:
        """All profiles (of ``kinds``, of ``category``) as (pk, profile), ordered by pk."""
        where, args = [], []
        if kinds is not None:
            kinds = list(kinds)
            where.append("kind IN (" + ",".join("?" * len(kinds)) + ")")
            args.extend(kinds)
        if category is not None:
            where.append("category = ?")
            args.append(category)
        for row in self.db.table("profiles").rows_where(" AND ".join(where) or None, args,
                                                         order_by="pk"):
            yield int(row["pk"]), Profile.from_row(row)

    def get_many(self, ids: Sequence[str]) -> list[Profile]:
        """The profiles of ``ids`` in that order (ids without a profile are left out)."""
        found: dict[str, Profile] = {}
        wanted = list(dict.fromkeys(ids))
        for start in range(0, len(wanted), 500):
            part = wanted[start:start + 500]
            cur = self.db.execute("SELECT * FROM profiles WHERE id IN ("
                                  + ",".join("?" * len(part)) + ")", part)
            names = [c[0] for c in cur.description]
            for row in cur:
                p = Profile.from_row(dict(zip(names, row, strict=True)))
                found[p.id] = p
        return [found[i] for i in ids if i in found]

    def ids_of_institution(self, institution: str, kinds: Iterable[str]) -> list[str]:
        """Ids of the profiles of ``kinds`` that name ``institution``, in pk order."""
        kinds = list(kinds)
        sql = ("SELECT id FROM profiles WHERE institution = ? AND kind IN ("
               + ",".join("?" * len(kinds)) + ") ORDER BY pk")
        return [r[0] for r in self.db.execute(sql, [institution, *kinds])]

    def names(self, kinds: Iterable[str]) -> dict[str, str]:
        """Map of profile id to name for the profiles of ``kinds``, in pk order."""
        kinds = list(kinds)
        sql = ("SELECT id, name FROM profiles WHERE kind IN (" + ",".join("?" * len(kinds))
               + ") ORDER BY pk")
        return dict(self.db.execute(sql, kinds).fetchall())

    def table_rows(self) -> list[dict[str, Any]]:
        """The columns used for filtering and ranking, for every profile, in pk order."""
        sql = ("SELECT pk, id, kind, visibility, district, parent, lat, lon FROM profiles "
               "ORDER BY pk")
        cur = self.db.execute(sql)
        names = [c[0] for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def table_columns(self) -> dict[str, list[Any]]:
        """The columns of :meth:`table_rows` as lists, in pk order, with one string object per
        distinct kind, visibility, district and parent (the driver makes one per row: ~200 MB
        more at a million profiles)."""
        names = ("pk", "id", "kind", "visibility", "district", "parent", "lat", "lon")
        cols: dict[str, list[Any]] = {n: [] for n in names}
        same: dict[Any, Any] = {}
        shared = {"kind", "visibility", "district", "parent"}
        appends = [(cols[n].append, n in shared) for n in names]
        cur = self.db.execute(f"SELECT {', '.join(names)} FROM profiles ORDER BY pk")
        for row in cur:
            for (append, dedupe), value in zip(appends, row, strict=True):
                append(same.setdefault(value, value) if dedupe else value)
        return cols

    def count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM profiles").fetchone()[0])

    def children(self, profile_id: str) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT id FROM profiles WHERE parent = ? ORDER BY id", [profile_id])]

    def stats(self) -> dict[str, Any]:
        """Counts in total, per kind and per district."""
        def grouped(column: str) -> dict[str, int]:
            sql = (f"SELECT coalesce({column}, '-'), count(*) FROM profiles "
                   f"GROUP BY 1 ORDER BY 2 DESC, 1")
            return {k: int(v) for k, v in self.db.execute(sql).fetchall()}

        return {"total": self.count(), "by_kind": grouped("kind"),
                "by_district": grouped("district")}

    def corpus_digest(self) -> str:
        """A digest over all (id, content hash) pairs: changes whenever any profile changes."""
        h = hashlib.sha256()
        for pid, chash in self.db.execute("SELECT id, content_hash FROM profiles ORDER BY id"):
            h.update(f"{pid}\0{chash}\n".encode())
        return h.hexdigest()

    def digest_without(self, columns: Iterable[str]) -> str:
        """A digest over every profile's stored columns except ``columns`` (and its
        timestamps and content hash): unchanged when only those columns changed."""
        skip = {*columns, "content_hash", "created_at", "updated_at"}
        cur = self.db.execute("SELECT * FROM profiles ORDER BY pk")
        keep = [i for i, d in enumerate(cur.description) if d[0] not in skip]
        h = hashlib.sha256()
        for row in cur:
            h.update(repr([row[i] for i in keep]).encode("utf-8"))
        return h.hexdigest()

    def search_text(self, query: str, limit: int = 20) -> list[tuple[str, float]]:
        """Full-text (FTS5, BM25) search; returns (id, score) with higher = better.

        Any word may match (OR), words of four or more letters also as prefix; punctuation in
        the query is ignored.
        """
        terms = [t for t in "".join(c if c.isalnum() else " " for c in query).split() if t]
        if not terms:
            return []
        # Prefix match so that "Wasserstoff" finds "Wasserstoffwerk" (German compounds).
        match = " OR ".join(f'"{t}"*' if len(t) >= 4 else f'"{t}"' for t in terms)
        sql = (
            "SELECT profiles.id, bm25(profiles_fts) AS rank FROM profiles_fts "
            "JOIN profiles ON profiles.pk = profiles_fts.rowid "
            "WHERE profiles_fts MATCH ? ORDER BY rank LIMIT ?"
        )
        return [(pid, -float(rank)) for pid, rank in self.db.execute(sql, [match, limit])]

    # -- writes -------------------------------------------------------------
    def upsert(self, profiles: Iterable[Profile]) -> UpsertCounts:
        """Insert new profiles, update changed ones, leave unchanged ones untouched."""
        counts = UpsertCounts()
        known = self.hashes()
        now = _now()
        with self.transaction():
            for p in profiles:
                chash = p.content_hash()
                if known.get(p.id) == chash:
                    counts.unchanged += 1
                    continue
                row = self._row(p, chash, now)
                if p.id in known:
                    row.pop("created_at")
                    self.db.table("profiles").update(self._pk(p.id), row)
                    counts.updated += 1
                else:
                    self.db.table("profiles").insert(row)
                    counts.inserted += 1
                known[p.id] = chash
        return counts

    @staticmethod
    def _row(p: Profile, chash: str, now: str) -> dict[str, Any]:
        row: dict[str, Any] = {name: getattr(p, name) for name in PROFILE_FIELDS}
        row["keywords"] = json.dumps(p.keywords, ensure_ascii=False)
        row["extra"] = json.dumps(p.extra, ensure_ascii=False)
        row.update(content_hash=chash, created_at=now, updated_at=now)
        return row

    def remove(self, ids: Iterable[str], with_children: bool = False) -> list[str]:
        """Delete profiles (and, if asked, the profiles that name them as parent).

        Returns the ids actually removed.

        Raises:
            NotFoundError: an id does not exist (nothing is removed).
            MatcherError: a profile still has children and ``with_children`` is false.
        """
        ids = list(dict.fromkeys(ids))
        removed: list[str] = []
        with self.transaction():
            missing = [i for i in ids if self.pk_of(i) is None]
            if missing:
                raise NotFoundError("Unbekannte id(s): " + ", ".join(missing)
                                    + " — nichts wurde gelöscht.")
            queue = list(ids)
            while queue:
                pid = queue.pop(0)
                if pid in removed:
                    continue
                kids = [k for k in self.children(pid) if k not in removed]
                if kids and not with_children:
                    shown = ", ".join(kids[:5]) + (" …" if len(kids) > 5 else "")
                    raise MatcherError(
                        f"{pid} hat noch {len(kids)} zugeordnete Profile ({shown}) — erst diese "
                        "entfernen oder --with-children angeben. Nichts wurde gelöscht."
                    )
                queue.extend(kids)
                removed.append(pid)
            for pid in removed:
                self.db.execute("DELETE FROM profiles WHERE id = ?", [pid])
        return removed

    # -- embedding cache ----------------------------------------------------
    def cached_vectors(self, model_id: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """Cached float32 vectors of a model for the given text hashes (missing ones absent)."""
        wanted = list(dict.fromkeys(hashes))
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(wanted), 500):
            chunk = wanted[i:i + 500]
            sql = ("SELECT text_hash, vector FROM embeddings WHERE model_id = ? AND text_hash IN ("
                   + ",".join("?" * len(chunk)) + ")")
            for h, blob in self.db.execute(sql, [model_id, *chunk]):
                out[h] = np.frombuffer(blob, dtype=np.float32)
        return out

    def put_vectors(self, model_id: str, items: Iterable[tuple[str, np.ndarray]]) -> None:
        """Store vectors of a model by text hash (replacing equal keys)."""
        rows = [(model_id, h, int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes())
                for h, v in items]
        with self.transaction():
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO embeddings (model_id, text_hash, dim, vector) "
                "VALUES (?, ?, ?, ?)", rows)

    def prune_vectors(self, keep: Iterable[str]) -> int:
        """Delete cached vectors (of every model) whose text is no longer in the corpus."""
        keep_set = set(keep)
        stored = {r[0] for r in self.db.execute("SELECT DISTINCT text_hash FROM embeddings")}
        gone = [h for h in stored if h not in keep_set]
        with self.transaction():
            self.db.conn.executemany("DELETE FROM embeddings WHERE text_hash = ?",
                                     [(h,) for h in gone])
        return len(gone)

    def log_import(self, entry: dict[str, Any]) -> None:
        with self.transaction():
            self.db.table("import_log").insert(entry)

    def import_log(self, limit: int = 20) -> list[dict[str, Any]]:
        return list(self.db.table("import_log").rows_where(order_by="pk desc", limit=limit))
