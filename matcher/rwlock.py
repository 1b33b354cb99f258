"""A shared/exclusive lock: many readers at once, or one writer.

Readers that already hold the lock in the same thread enter again without waiting (a nested
read never deadlocks against a waiting writer). A waiting writer stops new readers from
entering, so writers are not starved by a steady stream of reads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class SharedLock:
    """``with lock.shared():`` for readers, ``with lock.exclusive():`` for a writer."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer: int | None = None  # thread id of the writer inside
        self._writer_depth = 0
        self._waiting_writers = 0
        self._mine = threading.local()  # this thread's depth of shared holds

    @contextmanager
    def shared(self) -> Iterator[None]:
        """Hold the lock together with other readers (re-entrant within a thread)."""
        depth = getattr(self._mine, "depth", 0)
        me = threading.get_ident()
        with self._cond:
            if depth == 0 and self._writer != me:
                while self._writer is not None or self._waiting_writers:
                    self._cond.wait()
            self._readers += 1
        self._mine.depth = depth + 1
        try:
            yield
        finally:
            self._mine.depth = depth
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the lock alone (re-entrant for the writer; not from inside ``shared``)."""
        me = threading.get_ident()
        if getattr(self._mine, "depth", 0):
            raise RuntimeError("SharedLock: exclusive() inside shared() would deadlock")
        with self._cond:
            if self._writer != me:
                self._waiting_writers += 1
                try:
                    while self._writer is not None or self._readers:
                        self._cond.wait()
                finally:
                    self._waiting_writers -= 1
                self._writer = me
            self._writer_depth += 1
        try:
            yield
        finally:
            with self._cond:
                self._writer_depth -= 1
                if not self._writer_depth:
                    self._writer = None
                    self._cond.notify_all()
