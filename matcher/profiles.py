"""Create, update and delete single profiles (API and forms), validated exactly like an import.

Deleting a profile erases it: the row and its full-text entries, its shortlist entries and
introductions (with their history), and audit details that name it. The search index, the
embedding cache and in-memory caches follow when the index is brought up to date
(:mod:`matcher.live`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from matcher.errors import ConflictError, MatcherError, Problem, ValidationError
from matcher.geo import Gazetteer
from matcher.models import PARENT_KINDS, PROFILE_FIELDS, Profile, RecordValidator
from matcher.store import Store

SOURCE = "Profil"
# Fields derived from the place when only the place changes.
_LOCATION_DERIVED = ("lat", "lon", "district")


class RecordError(ValidationError):
    """One submitted profile is invalid; ``problems`` holds every ``field: problem``."""

    def __init__(self, problems: list[Problem], summary: str) -> None:
        super().__init__(problems, summary)
        self.message = summary + ": " + "; ".join(f"{p.field}: {p.message}" for p in problems)


def _require_mapping(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise MatcherError("Erwartet ein JSON-Objekt mit den Profilfeldern, z. B. "
                           '{"id": "co-1", "kind": "company", "name": "…", "description": "…", '
                           '"city": "Freiberg"}.')
    return body


def _unknown(body: Mapping[str, Any]) -> list[Problem]:
    allowed = ", ".join(PROFILE_FIELDS)
    return [Problem(SOURCE, 1, str(k), f"unbekanntes Feld — erlaubt: {allowed}")
            for k in body if k not in PROFILE_FIELDS]


def parent_problem(profile: Profile, kinds: Mapping[str, str]) -> str | None:
    """Why the profile's ``parent`` is not acceptable (``None`` when it is or there is none)."""
    if not profile.parent:
        return None
    allowed = PARENT_KINDS.get(profile.kind, ())
    if profile.parent not in kinds:
        return f"Eltern-Profil {profile.parent!r} existiert nicht"
    if kinds[profile.parent] not in allowed:
        return (f"{profile.parent!r} ist ein {kinds[profile.parent]}, für {profile.kind} "
                "erwartet: " + " oder ".join(allowed))
    return None


def validate(record: Mapping[str, Any], store: Store, gazetteer: Gazetteer, *,
             allow_outside: bool = False) -> Profile:
    """The profile a record describes, checked like an imported record plus its parent.

    Raises:
        RecordError: every invalid field, with what to do.
    """
    check = RecordValidator(gazetteer, allow_outside=allow_outside).check(record)
    problems = [Problem(SOURCE, 1, f, m) for f, m in check.errors]
    if check.profile is not None:
        why = parent_problem(check.profile, store.kinds())
        if why:
            problems.append(Problem(SOURCE, 1, "parent", why))
    if problems or check.profile is None:
        raise RecordError(problems, "Profil ungültig")
    return check.profile


def create_profile(store: Store, gazetteer: Gazetteer, body: Any, *,
                   allow_outside: bool = False) -> Profile:
    """Validate and store a new profile.

    Raises:
        MatcherError: the body is not an object.
        RecordError: invalid or unknown fields.
        ConflictError: a profile with this id exists.
    """
    body = _require_mapping(body)
    unknown = _unknown(body)
    if unknown:
        raise RecordError(unknown, "Profil ungültig")
    profile = validate(body, store, gazetteer, allow_outside=allow_outside)
    with store.transaction():
        if store.pk_of(profile.id) is not None:
            raise ConflictError(f"Ein Profil mit der id {profile.id!r} gibt es schon — zum Ändern "
                                f"PUT oder PATCH /api/profiles/{profile.id} verwenden.")
        store.upsert([profile])
    return profile


def update_profile(store: Store, gazetteer: Gazetteer, profile_id: str, body: Any, *,
                   replace: bool = False, allow_outside: bool = False) -> Profile:
    """Change a profile: ``replace`` puts the body in its place (PUT), otherwise the body's
    fields are merged into it (PATCH; ``null`` removes a field). Extra fields of imports are kept
    on merge.

    Raises:
        NotFoundError: no such profile.
        RecordError: invalid or unknown fields, or an id other than ``profile_id``.
        ConflictError: a new kind does not fit the profiles that name this one as parent.
    """
    body = _require_mapping(body)
    problems = _unknown(body)
    if "id" in body and str(body["id"]).strip() != profile_id:
        problems.append(Problem(SOURCE, 1, "id", f"passt nicht zur Adresse ({profile_id!r}) — "
                                                 "die id eines Profils lässt sich nicht ändern"))
    if problems:
        raise RecordError(problems, "Profil ungültig")
    with store.transaction():
        current = store.get(profile_id)
        if replace:
            record: dict[str, Any] = dict(body)
        else:
            record = current.to_record()
            given = {k for k, v in body.items() if v is not None}
            if "city" in given and not {"lat", "lon"} & given:
                for name in _LOCATION_DERIVED:
                    record.pop(name, None)
            elif {"lat", "lon"} & given and "district" not in given:
                record.pop("district", None)
            for key, value in body.items():
                if value is None:
                    record.pop(key, None)
                else:
                    record[key] = value
        record["id"] = profile_id
        profile = validate(record, store, gazetteer, allow_outside=allow_outside)
        if profile.kind != current.kind:
            _check_children_accept(store, profile)
        store.upsert([profile])
    return profile


def _check_children_accept(store: Store, profile: Profile) -> None:
    kinds = store.kinds()
    for child in store.children(profile.id):
        if profile.kind not in PARENT_KINDS.get(kinds[child], ()):
            raise ConflictError(f"{child!r} ({kinds[child]}) nennt dieses Profil als parent; "
                                f"als {profile.kind} passt es dazu nicht — erst {child!r} "
                                "ändern oder entfernen.")


def delete_profile(store: Store, profile_id: str, *, with_children: bool = False) -> list[str]:
    """Delete a profile (and, if asked, the profiles naming it as parent) with every trace in
    the database; returns the ids removed.

    Raises:
        NotFoundError: no such profile (nothing is removed).
        MatcherError: it has children and ``with_children`` is false.
    """
    return delete_profiles(store, [profile_id], with_children=with_children)


def delete_profiles(store: Store, ids: Iterable[str], *, with_children: bool = False,
                    ) -> list[str]:
    """:func:`delete_profile` for several ids at once (all or nothing)."""
    ids = list(dict.fromkeys(ids))
    with store.transaction():
        victims, queue = list(ids), list(ids)
        while with_children and queue:
            kids = store.children(queue.pop())
            victims += kids
            queue += kids
        names = [x for pid in victims if store.pk_of(pid) is not None
                 for p in [store.get(pid)] for x in (p.name, p.email, p.phone) if x]
        removed = store.remove(ids, with_children=with_children)
        erase_references(store, removed, names)
    purge_fulltext(store)
    return removed


def erase_references(store: Store, ids: list[str], names: list[str] | None = None) -> None:
    """Remove shortlist entries, shortlists and introductions of the given profiles (with their
    status history) and blank audit details that name them. Tables of workspace features that
    are not installed are skipped."""
    if not ids:
        return
    db = store.db
    marks = ",".join("?" * len(ids))
    objects: list[str] = []
    if db.table("shortlists").exists():
        lists = [r[0] for r in db.execute(
            f"SELECT pk FROM shortlists WHERE client_id IN ({marks})", ids)]
        for pk in lists:
            db.execute("DELETE FROM shortlist_items WHERE shortlist = ?", [pk])
            db.execute("DELETE FROM shortlists WHERE pk = ?", [pk])
        objects += [f"shortlist:{pk}" for pk in lists]
        db.execute(f"DELETE FROM shortlist_items WHERE profile_id IN ({marks})", ids)
    if db.table("introductions").exists():
        intros = [r[0] for r in db.execute(
            f"SELECT pk FROM introductions WHERE client_id IN ({marks}) OR partner_id IN "
            f"({marks})", [*ids, *ids])]
        for pk in intros:
            db.execute("DELETE FROM intro_events WHERE intro = ?", [pk])
            db.execute("DELETE FROM introductions WHERE pk = ?", [pk])
        objects += [f"intro:{pk}" for pk in intros]
    if db.table("audit_log").exists():
        needles = [*ids, *(n for n in (names or []) if n)]
        rows = db.execute("SELECT pk, object, detail FROM audit_log").fetchall()
        for pk, obj, detail in rows:
            if obj in objects or any(n in (detail or "") for n in needles):
                db.execute("UPDATE audit_log SET detail = ? WHERE pk = ?",
                           ['{"gelöscht": "Recht auf Löschung"}', pk])


def purge_fulltext(store: Store) -> None:
    """Merge the full-text index so that deleted rows leave no tokens behind."""
    with store.transaction():
        store.db.execute("INSERT INTO profiles_fts(profiles_fts) VALUES('optimize')")
