"""Outcome report of the introductions: per manager and region (the client's Kreis)."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from typing import Any

from matcher.accounts import User
from matcher.errors import ForbiddenError
from matcher.store import Store

TOTAL = "Gesamt"


@dataclass
class ReportRow:
    """Counts of one manager in one region.

    ``accepted`` counts introductions that reached "angenommen"; the acceptance rate is
    accepted / (accepted + declined after the request), None while nothing was decided.
    """

    manager: str
    region: str
    introductions: int = 0
    requested: int = 0
    accepted: int = 0
    declined: int = 0
    meetings: int = 0
    cooperations: int = 0
    proposals: int = 0
    orders: int = 0

    @property
    def acceptance_rate(self) -> float | None:
        decided = self.accepted + self.declined
        return None if decided == 0 else self.accepted / decided

    def as_dict(self) -> dict[str, Any]:
        rate = self.acceptance_rate
        return {**asdict(self), "acceptance_rate": None if rate is None else round(rate, 3)}


def outcome_report(store: Store, user: User) -> list[ReportRow]:
    """Rows per (manager, region), sorted, and a last row with the totals. Managers see their
    own introductions, admins everyone's.

    Raises:
        ForbiddenError: the user is neither manager nor admin.
    """
    if not user.has_role("manager"):
        raise ForbiddenError("Der Ergebnisbericht ist dem Innovationsmanagement vorbehalten.")
    sql = ("SELECT i.pk, u.username, coalesce(p.district, 'unbekannt'), i.status, i.outcome, "
           "(SELECT group_concat(e.to_status) FROM intro_events e WHERE e.intro = i.pk) "
           "FROM introductions i JOIN users u ON u.pk = i.owner "
           "LEFT JOIN profiles p ON p.id = i.client_id")
    args: list[Any] = []
    if user.role != "admin":
        sql += " WHERE i.owner = ?"
        args.append(user.pk)
    rows: dict[tuple[str, str], ReportRow] = {}
    total = ReportRow(TOTAL, TOTAL)
    for _pk, manager, region, status, outcome, reached_csv in store.db.execute(sql, args):
        reached = set((reached_csv or "").split(",")) | {status}
        row = rows.setdefault((manager, region), ReportRow(manager, region))
        for r in (row, total):
            r.introductions += 1
            r.requested += "angefragt" in reached
            r.accepted += "angenommen" in reached
            r.declined += status == "abgelehnt" and "angefragt" in reached
            r.meetings += "treffen" in reached
            r.cooperations += outcome == "kooperation"
            r.proposals += outcome == "projektantrag"
            r.orders += outcome == "auftrag"
    return [rows[k] for k in sorted(rows)] + [total]


CSV_HEADER = ["Manager:in", "Region", "Vorstellungen", "angefragt", "angenommen",
              "abgelehnt nach Anfrage", "Annahmequote", "Treffen", "Kooperationen",
              "Projektanträge", "Aufträge"]


def report_csv(rows: list[ReportRow]) -> str:
    """Semicolon CSV with a BOM and German decimal commas, as German Excel opens it."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(CSV_HEADER)
    for r in rows:
        rate = r.acceptance_rate
        w.writerow([r.manager, r.region, r.introductions, r.requested, r.accepted, r.declined,
                    "" if rate is None else f"{rate * 100:.0f} %".replace(".", ","),
                    r.meetings, r.cooperations, r.proposals, r.orders])
    return "\ufeff" + buf.getvalue()
