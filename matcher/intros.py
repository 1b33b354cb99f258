"""Introductions workspace: shortlists per client, introductions with a status machine,
due follow-ups, and the feedback that keeps declined or known pairs out of future matches.

Every write is checked against the acting user (owner or admin) and recorded in the audit log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from matcher.accounts import User
from matcher.audit import AuditLog, Clock, parse_stamp, stamp, utc_now
from matcher.errors import ConflictError, ForbiddenError, MatcherError, NotFoundError
from matcher.explain import Explanation
from matcher.intro_draft import compose_draft
from matcher.models import KIND_LABELS, Profile
from matcher.privacy import visible_to
from matcher.store import Store

STATUSES = ("vorgeschlagen", "angefragt", "angenommen", "abgelehnt", "treffen", "ergebnis")
STATUS_LABELS = {"vorgeschlagen": "vorgeschlagen", "angefragt": "angefragt",
                 "angenommen": "angenommen", "abgelehnt": "abgelehnt", "treffen": "Treffen",
                 "ergebnis": "Ergebnis"}
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "vorgeschlagen": ("angefragt", "abgelehnt"),
    "angefragt": ("angenommen", "abgelehnt"),
    "angenommen": ("treffen", "ergebnis"),
    "treffen": ("ergebnis",),
    "abgelehnt": (),
    "ergebnis": (),
}
DECLINE_REASONS = {"passt_nicht": "passt nicht", "kennen_uns_schon": "kennen uns schon",
                   "kein_interesse": "kein Interesse", "keine_reaktion": "keine Reaktion",
                   "sonstiges": "sonstiges"}
EXCLUDING_REASONS = ("passt_nicht", "kennen_uns_schon")
OUTCOMES = {"kooperation": "Kooperation", "projektantrag": "Projektantrag",
            "auftrag": "Auftrag", "keine": "keine"}
CLIENT_KINDS = ("company", "startup", "researcher", "chair")
FOLLOWUP_DAYS = (7, 14, 21)
WAITING = {"angefragt": "Keine Antwort", "angenommen": "Angenommen, aber noch kein Treffen"}
MAX_NAME, MAX_NOTE, MAX_SUBJECT, MAX_BODY = 120, 2000, 200, 20_000
WORKSPACE_ROLES = ("manager",)


@dataclass
class ShortlistItem:
    """A candidate on a shortlist, with the note and the pair's introduction if any."""

    profile_id: str
    name: str
    kind: str
    city: str | None
    note: str
    added_at: str
    intro_pk: int | None = None
    intro_status: str | None = None


@dataclass
class Shortlist:
    """Named candidates for one client."""

    pk: int
    name: str
    client_id: str
    client_name: str
    owner: str
    created_at: str
    items: list[ShortlistItem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Introduction:
    """An introduction of a partner to a client and where it stands."""

    pk: int
    client_id: str
    client_name: str
    partner_id: str
    partner_name: str
    partner_email: str
    owner: str
    status: str
    reason: str | None
    outcome: str | None
    subject: str
    body: str
    note: str
    created_at: str
    updated_at: str
    status_changed_at: str
    followed_up_at: str | None

    @property
    def status_label(self) -> str:
        label = STATUS_LABELS[self.status]
        extra = DECLINE_REASONS.get(self.reason or "") or OUTCOMES.get(self.outcome or "")
        return f"{label}: {extra}" if extra else label

    @property
    def next_statuses(self) -> tuple[str, ...]:
        return TRANSITIONS[self.status]

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status_label": self.status_label,
                "next_statuses": list(self.next_statuses)}


@dataclass
class FollowUp:
    """An introduction waiting for a reaction for at least the first follow-up interval."""

    intro: Introduction
    days: int
    level: int  # 7, 14 or 21
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"intro": self.intro.as_dict(), "days": self.days, "level": self.level,
                "message": self.message}


@dataclass(frozen=True)
class Feedback:
    """What earlier introductions say about a client's future matches."""

    excluded: frozenset[str]  # declined as "passt nicht" / "kennen uns schon"
    known: dict[str, str]  # partner id → status label of any introduction of the pair

    def exclude_ids(self, only_new: bool = False) -> frozenset[str]:
        """Ids to leave out: the declined ones, with ``only_new`` every known partner."""
        return self.excluded | frozenset(self.known) if only_new else self.excluded

    def order(self, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Down-rank: partners already introduced move behind the new ones (order kept
        within each group) and carry ``introduction`` with the status label."""
        new = [r for r in results if r["id"] not in self.known]
        old = [{**r, "introduction": self.known[r["id"]]} for r in results
               if r["id"] in self.known]
        return new + old


def _text(value: str | None, name: str, limit: int, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise MatcherError(f"{name}: bitte ausfüllen.")
    if len(text) > limit:
        raise MatcherError(f"{name}: höchstens {limit} Zeichen (jetzt {len(text)}).")
    return text


class Intros:
    """The workspace over one store; ``clock`` decides what "now" is (injectable for tests)."""

    def __init__(self, store: Store, clock: Clock = utc_now) -> None:
        self.store, self.clock = store, clock
        self.audit = AuditLog(store, clock)
        self.db = store.db

    # -- shortlists ---------------------------------------------------------
    def create_shortlist(self, user: User, name: str, client_id: str) -> Shortlist:
        """A new shortlist for a client (a company, start-up, chair or researcher).

        Raises:
            NotFoundError: no visible client with this id.
            MatcherError: empty or too long name, or a client of another kind.
        """
        self._require_role(user)
        name = _text(name, "Name der Merkliste", MAX_NAME, required=True)
        client = self._profile(client_id)
        if client.kind not in CLIENT_KINDS:
            allowed = ", ".join(KIND_LABELS[k] for k in CLIENT_KINDS)
            raise MatcherError(f"Kunde: {client.name} ist {KIND_LABELS[client.kind]} — Merklisten "
                               f"gibt es für {allowed}.")
        with self.store.transaction():
            pk = self._insert("shortlists", {
                "name": name, "client_id": client.id, "owner": user.pk,
                "created_at": stamp(self.clock())})
            self.audit.record(user.username, "shortlist.create", f"shortlist:{pk}",
                              name=name, kunde=client.id)
        return self.shortlist(user, pk)

    def shortlists(self, user: User, client_id: str | None = None) -> list[Shortlist]:
        """The user's shortlists (an admin's: all), newest first, optionally for one client."""
        where, args = self._owned_where(user)
        if client_id:
            where, args = f"({where}) AND client_id = ?", [*args, client_id]
        rows = self.db.table("shortlists").rows_where(where, args, order_by="pk desc")
        return [self._shortlist(r) for r in rows]

    def shortlist(self, user: User, pk: int) -> Shortlist:
        """Raises NotFoundError (unknown) or ForbiddenError (someone else's)."""
        return self._shortlist(self._owned_row("shortlists", pk, user, "Merkliste"))

    def add_to_shortlist(self, user: User, pk: int, profile_id: str, note: str = "") -> Shortlist:
        """Add a candidate (again: replace its note).

        Raises:
            NotFoundError: unknown shortlist or candidate.
            MatcherError: the candidate is the client itself, or the note is too long.
        """
        row = self._owned_row("shortlists", pk, user, "Merkliste")
        partner = self._profile(profile_id)
        if partner.id == row["client_id"]:
            raise MatcherError("Kandidat: der Kunde selbst kann nicht auf seine Merkliste.")
        note = _text(note, "Notiz", MAX_NOTE)
        with self.store.transaction():
            self.db.table("shortlist_items").upsert({
                "shortlist": pk, "profile_id": partner.id, "note": note, "added_by": user.pk,
                "added_at": stamp(self.clock())}, pk=("shortlist", "profile_id"))
            self.audit.record(user.username, "shortlist.add", f"shortlist:{pk}",
                              kandidat=partner.id, notiz=note)
        return self.shortlist(user, pk)

    def remove_from_shortlist(self, user: User, pk: int, profile_id: str) -> Shortlist:
        """Raises NotFoundError when the candidate is not on the list."""
        self._owned_row("shortlists", pk, user, "Merkliste")
        with self.store.transaction():
            cur = self.db.execute("DELETE FROM shortlist_items WHERE shortlist = ? AND "
                                  "profile_id = ?", [pk, profile_id])
            if not cur.rowcount:
                raise NotFoundError(f"{profile_id!r} steht nicht auf dieser Merkliste.")
            self.audit.record(user.username, "shortlist.remove", f"shortlist:{pk}",
                              kandidat=profile_id)
        return self.shortlist(user, pk)

    # -- introductions ------------------------------------------------------
    def create_introduction(self, user: User, client_id: str, partner_id: str,
                            explanation: Explanation | None = None) -> Introduction:
        """A new introduction (status "vorgeschlagen") with a German double-opt-in draft
        written from the match explanation. Nothing is sent.

        Raises:
            NotFoundError: client or partner unknown or hidden.
            ConflictError: the pair already has an introduction (in either direction).
        """
        self._require_role(user)
        client, partner = self._profile(client_id), self._profile(partner_id)
        if client.id == partner.id:
            raise MatcherError("Partner: muss ein anderes Profil als der Kunde sein.")
        existing = self._pair_row(client.id, partner.id)
        if existing is not None:
            raise ConflictError(f"Für {client.name} und {partner.name} gibt es schon die "
                                f"Vorstellung Nr. {existing['pk']} — dort weiterarbeiten.")
        draft = compose_draft(client, partner, explanation, user.label, user.email)
        now = stamp(self.clock())
        with self.store.transaction():
            pk = self._insert("introductions", {
                "client_id": client.id, "partner_id": partner.id, "owner": user.pk,
                "status": "vorgeschlagen", "subject": draft.subject, "body": draft.body,
                "note": "", "created_at": now, "updated_at": now, "status_changed_at": now})
            self._event(pk, user, None, "vorgeschlagen", "")
            self.audit.record(user.username, "intro.create", f"intro:{pk}", kunde=client.id,
                              partner=partner.id)
        return self.introduction(user, pk)

    def introduction(self, user: User, pk: int) -> Introduction:
        """Raises NotFoundError (unknown) or ForbiddenError (someone else's)."""
        return self._intro(self._owned_row("introductions", pk, user, "Vorstellung"))

    def introductions(self, user: User, statuses: Iterable[str] | None = None
                      ) -> list[Introduction]:
        """The user's introductions (an admin's: all), most recently changed first."""
        where, args = self._owned_where(user)
        if statuses is not None:
            wanted = list(statuses)
            where += " AND status IN (" + ",".join("?" * len(wanted)) + ")"
            args = [*args, *wanted]
        rows = self.db.table("introductions").rows_where(where, args,
                                                         order_by="updated_at desc, pk desc")
        return [self._intro(r) for r in rows]

    def save_draft(self, user: User, pk: int, subject: str, body: str) -> Introduction:
        """Replace the edited draft text."""
        self._owned_row("introductions", pk, user, "Vorstellung")
        subject = _text(subject, "Betreff", MAX_SUBJECT, required=True)
        body = _text(body, "Text", MAX_BODY, required=True)
        with self.store.transaction():
            self.db.table("introductions").update(pk, {"subject": subject, "body": body,
                                                       "updated_at": stamp(self.clock())})
            self.audit.record(user.username, "intro.draft", f"intro:{pk}")
        return self.introduction(user, pk)

    def change_status(self, user: User, pk: int, to: str, *, reason: str | None = None,
                      outcome: str | None = None, note: str = "") -> Introduction:
        """Move an introduction along the allowed transitions (``TRANSITIONS``); "abgelehnt"
        needs a ``reason`` (``DECLINE_REASONS``), "ergebnis" an ``outcome`` (``OUTCOMES``).

        Raises:
            ConflictError: the transition is not allowed from the current status.
            MatcherError: missing or unknown reason/outcome, note too long.
        """
        row = self._owned_row("introductions", pk, user, "Vorstellung")
        current = row["status"]
        if to not in STATUSES:
            raise MatcherError(f"Status {to!r} gibt es nicht — erlaubt: {', '.join(STATUSES)}.")
        if to not in TRANSITIONS[current]:
            allowed = ", ".join(TRANSITIONS[current]) or "keiner (abgeschlossen)"
            raise ConflictError(f"Status: von „{STATUS_LABELS[current]}“ nicht nach "
                                f"„{STATUS_LABELS[to]}“ — möglich: {allowed}.")
        reason = self._choice(reason, DECLINE_REASONS, "Grund") if to == "abgelehnt" else None
        outcome = self._choice(outcome, OUTCOMES, "Ergebnis") if to == "ergebnis" else None
        note = _text(note, "Notiz", MAX_NOTE)
        now = stamp(self.clock())
        with self.store.transaction():
            self.db.table("introductions").update(pk, {
                "status": to, "reason": reason, "outcome": outcome, "updated_at": now,
                "status_changed_at": now, "followed_up_at": None,
                **({"note": note} if note else {})})
            self._event(pk, user, current, to, note)
            self.audit.record(user.username, "intro.status", f"intro:{pk}", von=current,
                              nach=to, grund=reason, ergebnis=outcome)
        return self.introduction(user, pk)

    def record_followup(self, user: User, pk: int, note: str = "") -> Introduction:
        """Note that the manager followed up; the follow-up clock starts again."""
        row = self._owned_row("introductions", pk, user, "Vorstellung")
        if row["status"] not in WAITING:
            raise ConflictError("Nachfassen: nur bei Status „angefragt“ oder „angenommen“.")
        note = _text(note, "Notiz", MAX_NOTE)
        now = stamp(self.clock())
        with self.store.transaction():
            self.db.table("introductions").update(pk, {"followed_up_at": now,
                                                       "updated_at": now})
            self._event(pk, user, row["status"], row["status"], note or "nachgefasst")
            self.audit.record(user.username, "intro.followup", f"intro:{pk}", notiz=note)
        return self.introduction(user, pk)

    def history(self, user: User, pk: int) -> list[dict[str, Any]]:
        """Status changes and follow-ups of an introduction, oldest first."""
        self._owned_row("introductions", pk, user, "Vorstellung")
        return list(self.db.table("intro_events").rows_where("intro = ?", [pk],
                                                             order_by="pk"))

    def due_followups(self, user: User) -> list[FollowUp]:
        """Introductions without a reaction for 7, 14 or 21 days (since the status change or
        the last follow-up), longest waiting first."""
        now = self.clock()
        due = []
        for intro in self.introductions(user, WAITING):
            since = parse_stamp(intro.followed_up_at or intro.status_changed_at)
            days = (now - since).days
            if days < FOLLOWUP_DAYS[0]:
                continue
            level = max(d for d in FOLLOWUP_DAYS if days >= d)
            hint = ("letzte Erinnerung — sonst als „keine Reaktion“ abschließen"
                    if level == FOLLOWUP_DAYS[-1] else "bitte nachfassen")
            due.append(FollowUp(intro, days, level,
                                f"{WAITING[intro.status]} seit {days} Tagen — {hint}."))
        due.sort(key=lambda f: (-f.days, f.intro.pk))
        return due

    # -- feedback into ranking ----------------------------------------------
    def feedback(self, client_id: str) -> Feedback:
        """Earlier introductions of the client with anyone (either direction, any manager)."""
        sql = ("SELECT CASE WHEN client_id = ? THEN partner_id ELSE client_id END, status, "
               "reason, outcome FROM introductions WHERE client_id = ? OR partner_id = ?")
        excluded, known = set(), {}
        for other, status, reason, outcome in self.db.execute(sql, [client_id] * 3):
            label = STATUS_LABELS[status]
            extra = DECLINE_REASONS.get(reason or "") or OUTCOMES.get(outcome or "")
            known[other] = f"{label}: {extra}" if extra else label
            if status == "abgelehnt" and reason in EXCLUDING_REASONS:
                excluded.add(other)
        return Feedback(frozenset(excluded), known)

    # -- internals ----------------------------------------------------------
    @staticmethod
    def _require_role(user: User) -> None:
        if not user.has_role(*WORKSPACE_ROLES):
            raise ForbiddenError("Merklisten und Vorstellungen sind dem Innovationsmanagement "
                                 "vorbehalten.")

    def _owned_where(self, user: User) -> tuple[str, list[Any]]:
        self._require_role(user)
        return ("1 = 1", []) if user.role == "admin" else ("owner = ?", [user.pk])

    def _owned_row(self, table: str, pk: int, user: User, what: str) -> dict[str, Any]:
        self._require_role(user)
        rows = list(self.db.table(table).rows_where("pk = ?", [pk]))
        if not rows:
            raise NotFoundError(f"{what} Nr. {pk} gibt es nicht.")
        if rows[0]["owner"] != user.pk and user.role != "admin":
            raise ForbiddenError(f"{what} Nr. {pk} gehört jemand anderem.")
        return rows[0]

    def _profile(self, profile_id: str) -> Profile:
        p = self.store.get((profile_id or "").strip())
        if not visible_to(p, logged_in=True):
            raise NotFoundError(f"Kein Profil mit der id {profile_id!r}.")
        return p

    def _name_of(self, profile_id: str) -> tuple[str, str]:
        row = self.db.execute("SELECT name, coalesce(email, '') FROM profiles WHERE id = ?",
                              [profile_id]).fetchone()
        return (row[0], row[1]) if row else (f"{profile_id} (gelöscht)", "")

    def _owner_name(self, pk: int) -> str:
        row = self.db.execute("SELECT username FROM users WHERE pk = ?", [pk]).fetchone()
        return row[0] if row else "?"

    def _pair_row(self, a: str, b: str) -> dict[str, Any] | None:
        rows = list(self.db.table("introductions").rows_where(
            "(client_id = ? AND partner_id = ?) OR (client_id = ? AND partner_id = ?)",
            [a, b, b, a]))
        return rows[0] if rows else None

    def _shortlist(self, row: dict[str, Any]) -> Shortlist:
        sl = Shortlist(int(row["pk"]), row["name"], row["client_id"],
                       self._name_of(row["client_id"])[0], self._owner_name(row["owner"]),
                       row["created_at"])
        sql = ("SELECT i.profile_id, p.name, p.kind, p.city, i.note, i.added_at FROM "
               "shortlist_items i LEFT JOIN profiles p ON p.id = i.profile_id "
               "WHERE i.shortlist = ? ORDER BY i.added_at, i.profile_id")
        for pid, name, kind, city, note, added in self.db.execute(sql, [sl.pk]):
            pair = self._pair_row(sl.client_id, pid)
            sl.items.append(ShortlistItem(
                pid, name or f"{pid} (gelöscht)", kind or "", city, note or "", added,
                int(pair["pk"]) if pair else None,
                self._intro(pair).status_label if pair else None))
        return sl

    def _intro(self, row: dict[str, Any]) -> Introduction:
        partner_name, partner_email = self._name_of(row["partner_id"])
        return Introduction(
            int(row["pk"]), row["client_id"], self._name_of(row["client_id"])[0],
            row["partner_id"], partner_name, partner_email, self._owner_name(row["owner"]),
            row["status"], row["reason"], row["outcome"], row["subject"] or "",
            row["body"] or "", row["note"] or "", row["created_at"], row["updated_at"],
            row["status_changed_at"], row["followed_up_at"])

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        pk = self.db.table(table).insert(row).last_pk
        assert pk is not None
        return int(pk)

    def _event(self, pk: int, user: User, frm: str | None, to: str, note: str) -> None:
        self.db.table("intro_events").insert({
            "intro": pk, "at": stamp(self.clock()), "actor": user.username,
            "from_status": frm, "to_status": to, "note": note})

    @staticmethod
    def _choice(value: str | None, options: dict[str, str], name: str) -> str:
        key = (value or "").strip()
        if key not in options:
            shown = ", ".join(f"{k} ({v})" for k, v in options.items())
            raise MatcherError(f"{name}: bitte wählen — {shown}.")
        return key
