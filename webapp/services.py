"""Process-wide matcher: models and index load once; profile writes update it incrementally.

The app holds one :class:`matcher.live.LiveMatcher`: reads are answered from a consistent
snapshot (and a result cache) while a write re-indexes; changes by other processes are noticed
and caught up with in the background.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app

from matcher.live import LiveMatcher
from matcher.store import Store

_lock = threading.Lock()
T = TypeVar("T")


def holder() -> LiveMatcher:
    """The app's live matcher (created on first use)."""
    with _lock:
        live = current_app.extensions.get("matcher")
        if live is None:
            from webapp import context

            live = LiveMatcher(current_app.config["MATCHER_SETTINGS"], context.gazetteer())
            current_app.extensions["matcher"] = live
        return live


def run(fn_name: str, *args: Any, slam: bool = False, **kwargs: Any) -> Any:
    """Call a Matcher (or, with ``slam``, a SlamPlanner) method; equal calls between two
    changes of the data are answered from a cache.

    Raises:
        IndexStateError: the index is missing or stale (the message says which command fixes it).
    """
    return holder().call(fn_name, *args, slam=slam, **kwargs)


def call(fn: Any, *args: Any, slam: bool = False, cached: bool = True, **kwargs: Any) -> Any:
    """Call ``fn(matcher_or_planner, *args, **kwargs)`` on the current snapshot (for library
    functions that take the loaded Matcher or SlamPlanner as their first argument); equal
    calls on one snapshot come from the cache unless ``cached`` is false."""
    return holder().call(fn, *args, slam=slam, cached=cached, **kwargs)


def prepare_writes() -> None:
    """Load what profile edits need (see LiveMatcher.prepare_writes)."""
    holder().prepare_writes()


def write(change: Callable[[Store], T], *, erase: bool = False) -> T:
    """Run a store change, then return once searches see it (see LiveMatcher.write)."""
    return holder().write(change, erase=erase)
