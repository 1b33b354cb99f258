"""Index updates in a child process of their own.

A server that embeds an edited profile and rebuilds its index files in its own process holds
Python's global interpreter lock for most of that work, and every request waits for it in
turn. :class:`IndexWorker` runs :func:`matcher.indexer.build_index` in a child process instead,
which keeps its embedders loaded between updates; the server only loads the finished build.
Store and index are shared through the data directory (SQLite and the index folder with its
lock), so a child and a parent see the same state. A child that dies is started again for the
next request.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
from multiprocessing.connection import Connection
from typing import Any

from matcher import errors
from matcher.errors import IndexStateError, MatcherError
from matcher.indexer import IndexReport, build_index, document_backends
from matcher.settings import Settings

START_METHOD = "spawn"  # a fresh interpreter: no copied locks or threads of the server


class IndexWorker:
    """A child process that builds the index on request (one request at a time)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._proc: Any = None
        self._conn: Connection | None = None

    def build(self) -> IndexReport:
        """Bring the index up to date with the store (see ``build_index``).

        Raises:
            MatcherError: what ``build_index`` raised in the child (same message).
            IndexStateError: the child died twice in a row.
        """
        report = self._ask("build")
        assert isinstance(report, IndexReport)
        return report

    def prepare(self) -> None:
        """Start the child and load the document embedders an update needs."""
        self._ask("prepare")

    def forget(self) -> None:
        """Empty the child's caches of profile texts (after a deletion)."""
        if self._conn is not None:
            self._ask("forget")

    @property
    def pid(self) -> int | None:
        """Process id of the running child (``None`` before the first request)."""
        return self._proc.pid if self._proc is not None and self._proc.is_alive() else None

    def close(self) -> None:
        """Stop the child (waits for a running update)."""
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(OSError):
                    self._conn.send(("stop",))
                self._conn.close()
            if self._proc is not None:
                self._proc.join(30)
                if self._proc.is_alive():
                    self._proc.kill()
            self._conn = self._proc = None

    def _ask(self, op: str) -> Any:
        with self._lock:
            for attempt in (1, 2):
                conn = self._running()
                try:
                    conn.send((op,))
                    status, payload = conn.recv()
                except (EOFError, OSError) as exc:  # the child died: start a new one
                    self._discard()
                    if attempt == 2:
                        raise IndexStateError(
                            "Der Prozess für Index-Updates ist zweimal abgebrochen — die "
                            "Änderung ist gespeichert; `matcher index` bringt den Suchindex "
                            "auf den Stand.") from exc
                    continue
                if status == "ok":
                    return payload
                if status == "error":  # the same kind of error as in the child
                    name, message = payload
                    cls = getattr(errors, name, MatcherError)
                    raise (cls if isinstance(cls, type) and issubclass(cls, MatcherError)
                           else MatcherError)(message)
                raise RuntimeError(payload)
        raise AssertionError("unreachable")

    def _running(self) -> Connection:
        if self._proc is None or not self._proc.is_alive() or self._conn is None:
            self._discard()
            ctx: Any = multiprocessing.get_context(START_METHOD)
            parent, child = ctx.Pipe()
            self._proc = ctx.Process(target=_serve, args=(child, self.settings.as_dict()),
                                     name="matcher-index-worker", daemon=True)
            self._proc.start()
            child.close()
            self._conn = parent
        return self._conn

    def _discard(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._proc is not None and self._proc.is_alive():
            self._proc.kill()
            self._proc.join(5)
        self._conn = self._proc = None


def _serve(conn: Connection, values: dict[str, Any]) -> None:
    """The child's loop: answer requests until told to stop or the parent goes away."""
    from matcher import text as _text
    from matcher.live import EmbedderPool, _secure_store

    settings = Settings(values)
    pool = EmbedderPool(settings)
    store = _secure_store(settings.data_dir)
    try:
        while True:
            try:
                request = conn.recv()
            except (EOFError, OSError):
                return  # the server is gone
            op = request[0]
            if op == "stop":
                return
            try:
                if op == "build":
                    conn.send(("ok", build_index(store, settings, embedders=pool)))
                elif op == "prepare":
                    for name in document_backends(settings):
                        pool(name)
                    conn.send(("ok", None))
                elif op == "forget":
                    _text.analyze.cache_clear()
                    _text._key_terms.cache_clear()
                    conn.send(("ok", None))
                else:
                    conn.send(("failed", f"unknown request {op!r}"))
            except MatcherError as exc:
                conn.send(("error", (type(exc).__name__, exc.message)))
            except Exception as exc:  # reported to the server, which raises it there
                conn.send(("failed", f"{type(exc).__name__}: {exc}"))
    finally:
        store.close()
