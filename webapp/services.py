"""Process-wide matcher: models and index load once; rebuilt when the corpus changed."""

from __future__ import annotations

import threading
from typing import Any

from flask import current_app

from matcher.errors import IndexStateError
from matcher.search import Matcher
from matcher.slam import SlamPlanner
from matcher.store import Store

_lock = threading.Lock()


class MatcherHolder:
    """Holds one Matcher (and Inno Slam planner) per app and serialises access to them (they
    share one SQLite handle)."""

    def __init__(self) -> None:
        self.matcher: Matcher | None = None
        self.planner: SlamPlanner | None = None
        self.digest: str | None = None
        self.lock = threading.Lock()

    def get(self, settings: Any) -> Matcher:
        store = Store(settings.data_dir)
        digest = store.corpus_digest()
        if self.matcher is None or digest != self.digest:
            old, self.matcher = self.matcher, Matcher(store, settings)
            self.planner = SlamPlanner(self.matcher)
            self.digest = digest
            if old is not None:
                old.store.close()
        else:
            store.close()
        return self.matcher


def holder() -> MatcherHolder:
    with _lock:
        h = current_app.extensions.get("matcher")
        if h is None:
            h = current_app.extensions["matcher"] = MatcherHolder()
        return h


def run(fn_name: str, *args: Any, slam: bool = False, **kwargs: Any) -> Any:
    """Call a Matcher (or, with ``slam``, a SlamPlanner) method under the holder's lock.

    Raises:
        IndexStateError: the index is missing or stale (the message says which command fixes it).
    """
    h = holder()
    with h.lock:
        try:
            matcher = h.get(current_app.config["MATCHER_SETTINGS"])
        except IndexStateError:
            h.matcher = None
            raise
        target = h.planner if slam else matcher
        return getattr(target, fn_name)(*args, **kwargs)
