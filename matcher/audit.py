"""Audit log of the workspace (who changed what, when) and the injectable clock it uses."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from matcher.store import Store

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The current time in UTC, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def offset_clock(days: float) -> Clock:
    """A clock running ``days`` ahead of real time (tests and demos of due follow-ups)."""
    if not days:
        return utc_now
    delta = dt.timedelta(days=days)
    return lambda: utc_now() + delta


def stamp(moment: dt.datetime) -> str:
    """ISO 8601 text of a moment, as stored."""
    return moment.isoformat(timespec="seconds")


def parse_stamp(text: str) -> dt.datetime:
    """The moment a stored ISO 8601 text denotes."""
    return dt.datetime.fromisoformat(text)


class AuditLog:
    """Append-only log: every write of the workspace adds one entry."""

    def __init__(self, store: Store, clock: Clock = utc_now) -> None:
        self.store, self.clock = store, clock

    def record(self, actor: str, action: str, obj: str, **detail: Any) -> None:
        """Append an entry, e.g. ``record("anna", "intro.status", "intro:3", von=…, nach=…)``."""
        with self.store.transaction():
            self.store.db.table("audit_log").insert({
                "at": stamp(self.clock()), "actor": actor, "action": action, "object": obj,
                "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True)})

    def entries(self, obj: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Newest entries first, optionally only those about one object (``intro:3``)."""
        where, args = (None, []) if obj is None else ("object = ?", [obj])
        rows = self.store.db.table("audit_log").rows_where(where, args, order_by="pk desc",
                                                           limit=limit)
        return [{**row, "detail": json.loads(row["detail"] or "{}")} for row in rows]
