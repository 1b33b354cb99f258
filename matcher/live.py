"""A long-lived matcher that follows the store: reads never wait for an index update.

Every reader works on a *snapshot*: a Matcher (and Inno Slam planner) over one index build and a
SQLite connection pinned to the matching state of the store (an open read transaction), so
profiles, filters and vectors always agree. A write commits to the store, brings the index up to
date with embedders loaded once per process (only changed texts are embedded), opens a new
snapshot and swaps it in under a short lock. Writes that arrive while an update runs are folded
into the next update. Changes made by other processes (``matcher ingest``) are noticed through
SQLite's ``data_version`` and trigger an update in the background.

After a deletion the caches that may hold the deleted texts are emptied and the database's
write-ahead log is checkpointed and truncated, so no copy of the deleted rows remains on disk.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from matcher import text as _text
from matcher.embed import Embedder, create_embedder
from matcher.errors import IndexStateError, NotFoundError
from matcher.geo import Gazetteer, load_gazetteer
from matcher.indexer import (
    UNRANKED_FIELDS,
    IndexReport,
    LoadedIndex,
    build_index,
    document_backends,
    index_lock,
    index_root,
    load_index,
    remove_old_builds,
)
from matcher.retrieval import QueryEncoder, query_encoders
from matcher.rwlock import SharedLock
from matcher.search import Matcher
from matcher.settings import Settings
from matcher.slam import SlamPlanner
from matcher.store import Store

T = TypeVar("T")
# Fields whose change leaves other profiles' scores alone: a cached match result stays unless
# the changed profile was scored or can now enter a channel's run (Matcher.unaffected_many).
TEXT_ONLY_FIELDS = frozenset({"needs", "offers", "description", "keywords"})
# at most this many edited profiles get their query texts encoded before a swap (an import of
# many profiles is not held up by it)
WARM_PROFILES_MAX = 8
# embedded once by prepare_writes (a profile-like sentence, so the models see real words)
WARM_UP_TEXT = ("Wir suchen Partner für die Prüfung von Schweißnähten und die Digitalisierung "
                "unserer Fertigung.")


class EmbedderPool:
    """Document embedders by backend name, loaded on first use and kept for the process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._items: dict[str, Embedder] = {}
        self._lock = threading.Lock()

    def __call__(self, name: str) -> Embedder:
        with self._lock:
            if name not in self._items:
                self._items[name] = create_embedder(self.settings, name)
            return self._items[name]


@dataclass
class Snapshot:
    """One consistent view: store state, index build, Matcher and planner."""

    matcher: Matcher
    planner: SlamPlanner
    digest: str
    generation: int
    answers: str = ""  # digest of everything cached answers can show or depend on

    def close(self) -> None:
        self.matcher.store.close()


@dataclass
class _Changes:
    """Profiles whose stored content differs between two snapshots (added ones included),
    and whether the set of ids differs."""

    changed: list[str]
    ids_changed: bool


class _Flight:
    """One answer being computed; threads asking for the same answer wait for it."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.ok = False
        self.result: Any = None


class LiveMatcher:
    """Process-wide matcher for a server: cached reads, incremental writes, atomic swaps."""

    def __init__(self, settings: Settings, gazetteer: Gazetteer | None = None,
                 cache_size: int = 4096) -> None:
        self.settings = settings
        self.gazetteer = gazetteer or load_gazetteer()
        self.pool = EmbedderPool(settings)
        self.cache_size = cache_size
        self._snapshot: Snapshot | None = None
        self._generation = 0
        self._encoders: tuple[QueryEncoder, QueryEncoder] | None = None
        self._cache: OrderedDict[Any, Any] = OrderedDict()
        self._state = threading.RLock()  # snapshot pointer and result cache (held briefly)
        # Computations share the serving snapshot; swapping it, pausing its read transaction
        # and emptying caches wait until they are done.
        self._compute = SharedLock()
        self._flights: dict[Any, _Flight] = {}  # answers being computed, by cache key
        self._slots = threading.BoundedSemaphore(max(1, int(settings.compute_slots)))
        self._in_slot = threading.local()
        self._write_lock = threading.Lock()
        self._settle = threading.Condition()
        self._written = self._settled = 0
        self._updating = False
        self._erase_pending = False
        self._writer: Store | None = None  # profile writes (under the write lock)
        self._indexer: Store | None = None  # index updates (only the updating thread)
        self._watch: Store | None = None  # notices commits of other connections
        self._seen_version: int | None = None
        self._background: threading.Thread | None = None
        self._behind = False  # the store has changes the snapshot does not show yet

    # -- reads --------------------------------------------------------------
    def call(self, fn: str | Callable[..., T], *args: Any, slam: bool = False,
             cached: bool = True, **kwargs: Any) -> Any:
        """Call a Matcher method by name (a SlamPlanner method with ``slam``), or
        ``fn(matcher_or_planner, *args, **kwargs)``; with ``cached``, equal calls on the same
        snapshot are answered from a cache.

        Raises:
            IndexStateError: there is no usable index yet (the message names the command).
        """
        name = fn if isinstance(fn, str) else f"{fn.__module__}.{fn.__qualname__}"
        key: Any = (name, slam, args, tuple(sorted(kwargs.items()))) if cached else None
        try:
            hash(key)
        except TypeError:  # e.g. an options dataclass: its repr shows every field
            key = repr(key)
        with self._state:  # cache hits never wait for a computation
            self._notice_outside_changes()
            hit = self._cache.get(key) if key is not None else None
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
            flight = self._flights.get(key) if key is not None else None
            leader = flight is None and key is not None
            if leader:
                flight = self._flights[key] = _Flight()
        if flight is not None and not leader:  # the same answer is being computed: wait
            flight.done.wait()
            if flight.ok:
                return flight.result
        try:
            if self._snapshot is None:
                self._first_snapshot()
            with self._slot(), self._compute.shared():  # a few computations side by side
                with self._state:
                    snap = self._snapshot
                assert snap is not None
                target = snap.planner if slam else snap.matcher
                try:
                    result = (getattr(target, fn)(*args, **kwargs) if isinstance(fn, str)
                              else fn(target, *args, **kwargs))
                except NotFoundError as exc:
                    if self._behind:  # e.g. a profile imported a moment ago by another process
                        raise IndexStateError("Der Suchindex wird gerade aktualisiert — bitte "
                                              "in einem Moment erneut versuchen.") from exc
                    raise
            with self._state:
                if key is not None and snap is self._snapshot:
                    self._cache[key] = result
                    if len(self._cache) > self.cache_size:
                        self._cache.popitem(last=False)
            if leader and flight is not None:
                flight.result, flight.ok = result, True
            return result
        finally:
            if leader and flight is not None:
                with self._state:
                    if self._flights.get(key) is flight:
                        del self._flights[key]
                flight.done.set()  # followers take the result, or compute on their own

    @contextmanager
    def _slot(self) -> Iterator[None]:
        """One of the ``compute_slots``; a call made inside a computation keeps its slot."""
        if getattr(self._in_slot, "held", False):
            yield
            return
        with self._slots:
            self._in_slot.held = True
            try:
                yield
            finally:
                self._in_slot.held = False

    @property
    def generation(self) -> int:
        """Number of snapshots swapped in so far (0 = none loaded yet)."""
        return self._generation

    def _first_snapshot(self) -> None:
        with self._compute.exclusive():
            if self._snapshot is None:
                self._swap(self._open_snapshot())

    def _query_encoders(self) -> tuple[QueryEncoder, QueryEncoder]:
        if self._encoders is None:
            self._encoders = query_encoders(self.settings)
        return self._encoders

    def _serving_index(self) -> LoadedIndex | None:
        with self._state:
            return self._snapshot.matcher.index if self._snapshot is not None else None

    def _open_snapshot(self, fresh: LoadedIndex | None = None) -> Snapshot:
        """A Matcher over the current build and a store connection pinned to the same state;
        ``fresh`` is a build just made in this process (taken if it is still the current one).

        Raises:
            IndexStateError: the current build does not match the store.
        """
        store = Store(self.settings.data_dir)
        try:
            store.db.execute("BEGIN")
            digest = store.corpus_digest()  # the first read fixes the snapshot
            with self._state:
                serving = self._snapshot.matcher if self._snapshot is not None else None
            index = load_index(store, self.settings,
                               reuse=fresh or (serving.index if serving else None))
            matcher = Matcher(store, self.settings, self.gazetteer, index,
                              encoders=self._query_encoders(),
                              clients=serving.clients if serving else None)
            # The build's ranked digest was read together with its corpus digest, which
            # load_index just found equal to this snapshot's: it is this state's too.
            answers = (index.manifest.get("ranked_digest")
                       if index.manifest.get("corpus_digest") == digest else None)
        except BaseException:
            store.close()
            raise
        return Snapshot(matcher, SlamPlanner(matcher), digest, 0,
                        answers or _answers_digest(store))

    def _swap(self, snap: Snapshot, keep: dict[Any, Any] | None = None) -> None:
        """Serve ``snap`` from now on. Cached answers stay when no answer can have changed;
        otherwise only the entries of ``keep`` (checked against ``snap``) that are unchanged
        since."""
        with self._compute.exclusive(), self._state:  # running computations finish first
            old, self._snapshot = self._snapshot, snap
            self._behind = False
            self._generation += 1
            snap.generation = self._generation
            if old is None or old.answers != snap.answers:
                kept = [(k, v) for k, v in self._cache.items()
                        if keep is not None and keep.get(k) is v]
                self._cache = OrderedDict(kept)
        if old is not None:
            old.close()

    def _changes(self, new: Snapshot) -> _Changes | None:
        """Which profiles ``new`` shows differently from the serving snapshot (``None``
        before the first snapshot)."""
        old = self._snapshot
        if old is None:
            return None
        after = new.matcher.store.hashes()  # the new snapshot serves no one yet
        with self._compute.shared():  # the serving snapshot stays open meanwhile
            before = old.matcher.store.hashes()
        return _Changes([pid for pid, h in after.items() if before.get(pid) != h],
                        before.keys() != after.keys())

    def _warm(self, snap: Snapshot, changes: _Changes | None) -> None:
        """Before ``snap`` serves: encode the query texts of a few edited profiles (their
        partner search, their Kreis's Inno Slam demand), so that the first reader does not
        wait for the model (≈ 0.1 s of e5 per needs text)."""
        if changes is not None and len(changes.changed) <= WARM_PROFILES_MAX:
            snap.matcher.warm_profile_queries(changes.changed)

    def _still_exact(self, new: Snapshot, changes: _Changes | None) -> dict[Any, Any] | None:
        """The cached match results that are exact on ``new`` too, when the change since the
        serving snapshot only touched the texts (needs, offers, description, keywords) or
        unranked fields of existing profiles, the sparse vocabulary was kept and vectors are
        searched exactly; ``None`` when no such check is possible (every answer goes; also
        without ``changes``, as :meth:`_changes` gives them). In the
        same case ``new``'s planner may take over the old planner's line-ups
        (:meth:`SlamPlanner.inherit`)."""
        old = self._snapshot
        if old is None:
            return None
        if old.answers == new.answers:  # every answer stays; the planner's line-ups too
            new.planner.inherit(old.planner, ())
            return None
        manifest = new.matcher.index.manifest
        if (manifest.get("index_kind", "flat") != "flat"
                or manifest.get("vector_storage", "float32") != "float32"
                or int(manifest.get("sparse_drift", 0)) == 0):  # the vocabulary was refitted
            return None
        if changes is None or changes.ids_changed:
            return None
        changed = changes.changed
        with self._compute.shared():  # the serving snapshot stays open meanwhile
            records = {pid: old.matcher.store.get(pid).to_record() for pid in changed}
            with self._state:
                entries = list(self._cache.items())
        for pid, a in records.items():
            b = new.matcher.store.get(pid).to_record()
            if not {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)} <= (
                    TEXT_ONLY_FIELDS | UNRANKED_FIELDS):
                return None
        new.planner.inherit(old.planner, changed)
        candidates = [(key, value) for key, value in entries
                      if isinstance(key, tuple) and key[0] in ("match_text", "match_profile")
                      and not key[1] and getattr(value, "reach", None) is not None]
        still = new.matcher.unaffected_many([value.reach for _, value in candidates], changed)
        return {key: value for (key, value), ok in zip(candidates, still, strict=True) if ok}

    # -- writes -------------------------------------------------------------
    def prepare_writes(self) -> None:
        """Load the document embedders an edit needs and run each once, so the first edit
        neither loads models nor pays their first call (nearly a second for e5) while others
        are served (a server calls it in its warm-up). Nothing is stored."""
        for name in document_backends(self.settings):
            self.pool(name).encode_documents([WARM_UP_TEXT])

    def write(self, change: Callable[[Store], T], *, erase: bool = False) -> T:
        """Run ``change`` on the writer's store connection (it commits), then return once a
        snapshot that contains the change serves reads. ``erase`` also empties caches and
        truncates the write-ahead log (for deletions).

        Raises:
            whatever ``change`` raises (nothing is written then);
            IndexStateError: the change is stored but the index could not be updated.
        """
        with self._write_lock:
            result = change(self._writer_store())
            self._written += 1
            self._erase_pending |= erase
            mine = self._written
        self._wait_until_settled(mine)
        return result

    def refresh(self, erase: bool = False) -> IndexReport | None:
        """Bring index and snapshot up to date with the store now (``None`` if nothing to do
        because another thread just did it); ``erase`` as in :meth:`write`."""
        with self._write_lock:
            self._written += 1
            self._erase_pending |= erase
            mine = self._written
        return self._wait_until_settled(mine)

    def _writer_store(self) -> Store:
        if self._writer is None:
            self._writer = _secure_store(self.settings.data_dir)
        return self._writer

    def _indexer_store(self) -> Store:
        if self._indexer is None:
            self._indexer = _secure_store(self.settings.data_dir)
        return self._indexer

    def _wait_until_settled(self, seq: int) -> IndexReport | None:
        """Group commit: one thread updates the index for every write so far, others wait."""
        report = None
        with self._settle:
            while self._settled < seq:
                if self._updating:
                    self._settle.wait()
                    continue
                self._updating = True
                with self._write_lock:
                    target, erase = self._written, self._erase_pending
                    self._erase_pending = False
                self._settle.release()
                try:
                    report = self._update(erase)
                except BaseException:
                    with self._write_lock:
                        self._erase_pending |= erase
                    raise
                finally:
                    self._settle.acquire()
                    self._updating = False
                    self._settle.notify_all()
                self._settled = max(self._settled, target)
        return report

    def _update(self, erase: bool) -> IndexReport:
        writer = self._indexer_store()
        report = build_index(writer, self.settings, embedders=self.pool,
                             reuse=self._serving_index())
        try:
            snap = self._open_snapshot(report.loaded)
        except IndexStateError:  # a write committed after the build read the store: build
            with self._write_lock:  # again while new writes wait, so the two agree
                report = build_index(writer, self.settings, embedders=self.pool,
                                     reuse=report.loaded or self._serving_index())
                snap = self._open_snapshot(report.loaded)
        if erase:
            with self._compute.exclusive():
                self._forget_texts()
        # Only a change of what answers show or rank by can need new query texts.
        serving = self._snapshot
        changes = (self._changes(snap) if serving is not None and serving.answers != snap.answers
                   else None)
        self._warm(snap, changes)
        self._swap(snap, None if erase else self._still_exact(snap, changes))
        if erase:
            self._drop_previous_builds(snap)
            self._truncate_log()
        return report

    def _drop_previous_builds(self, snap: Snapshot) -> None:
        """Delete every index build but the one just loaded (a build kept for readers of the
        previous one still holds the deleted profile's texts)."""
        current = Path(snap.matcher.index.manifest["path"]).name
        with index_lock(self.settings.data_dir):
            remove_old_builds(index_root(self.settings.data_dir), [current])

    def _forget_texts(self) -> None:
        """Empty every in-process cache that is keyed by or holds profile texts."""
        _text.clear_caches()
        for enc in self._encoders or ():
            enc.clear()

    def _truncate_log(self) -> None:
        """Copy the write-ahead log into the database and truncate it to zero bytes; the
        snapshot's read transaction is paused meanwhile (reads wait a moment)."""
        with self._compute.exclusive():
            snap = self._snapshot
            if snap is not None:
                snap.matcher.store.db.conn.rollback()
            writer = self._indexer_store()
            writer.db.execute("PRAGMA busy_timeout = 5000")
            try:
                for _ in range(3):  # busy = a reader of another connection was in the way
                    busy = writer.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                    if not busy:
                        break
            finally:
                writer.db.execute("PRAGMA busy_timeout = 30000")
                if snap is not None:
                    snap.matcher.store.db.execute("BEGIN")
                    if snap.matcher.store.corpus_digest() != snap.digest:
                        self._seen_version = None  # someone else wrote: catch up
                        self._behind = True

    # -- changes by other processes ----------------------------------------
    def _notice_outside_changes(self) -> None:
        if self._snapshot is None:
            return
        if self._watch is None:
            self._watch = Store(self.settings.data_dir)
        version = int(self._watch.db.execute("PRAGMA data_version").fetchone()[0])
        busy = self._background is not None and self._background.is_alive()
        if version == self._seen_version or busy or self._updating:
            return
        self._seen_version = version
        if self._watch.corpus_digest() == self._snapshot.digest:
            return
        self._behind = True
        gone = bool(set(self._snapshot.matcher.table.ids) - set(self._watch.hashes()))
        self._background = threading.Thread(target=self._catch_up, args=(gone,),
                                            name="matcher-catch-up", daemon=True)
        self._background.start()

    def _catch_up(self, erase: bool) -> None:
        try:
            self.refresh(erase=erase)  # profiles deleted elsewhere: forget them here too
        except Exception:  # the old snapshot keeps serving; retried at the next change
            self._seen_version = None

    def wait_idle(self, timeout: float | None = None) -> None:
        """Wait for a background catch-up to finish (tests, shutdown)."""
        if self._background is not None:
            self._background.join(timeout)

    def close(self) -> None:
        """Close every connection (the object is unusable afterwards)."""
        self.wait_idle(30)
        with self._compute.exclusive(), self._state:
            if self._snapshot is not None:
                self._snapshot.close()
                self._snapshot = None
            for store in (self._writer, self._indexer, self._watch):
                if store is not None:
                    store.close()
            self._writer = self._indexer = self._watch = None


def _answers_digest(store: Store) -> str:
    """A digest over every profile without the fields no cached answer shows or ranks by: a
    change of only those (e.g. the number of employees) keeps the result cache."""
    return store.digest_without(UNRANKED_FIELDS)


def _secure_store(data_dir: Any) -> Store:
    """A store connection that overwrites deleted content with zeros."""
    store = Store(data_dir)
    store.db.execute("PRAGMA secure_delete = ON")
    return store
