"""Profile management: JSON API (API token or manager session) and HTML forms for managers.

Writes go through :func:`webapp.services.write`: the store changes, the index is updated
incrementally, and the response comes once searches see the change.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, g, jsonify, redirect, render_template, request, url_for

from matcher.errors import AuthenticationError, ForbiddenError, NotFoundError
from matcher.models import (
    CAREER_STAGES,
    GENDERS,
    KIND_LABELS,
    OFFERING_CATEGORIES,
    VISIBILITIES,
    Profile,
)
from matcher.privacy import public_record
from matcher.profiles import RecordError, create_profile, delete_profile, update_profile
from matcher.tokens import Tokens
from webapp import context, services
from webapp.auth import login_required

bp = Blueprint("profiles_api", __name__)
MAX_BODY_BYTES = 256 * 1024
WRITE_SCOPE = "profiles:write"
READ_INTERNAL_SCOPE = "profiles:read-internal"
WRITER_ROLES = ("manager",)  # admins pass every role check


# -- authentication -----------------------------------------------------------
def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer …`` header (None without the header).

    Raises:
        AuthenticationError: another authorization scheme was sent.
    """
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("Kopfzeile 'Authorization: Bearer <API-Token>' erwartet.")
    return token.strip()


def token_reads_internal() -> bool:
    """Whether the request carries an active API token with ``profiles:read-internal`` (an
    invalid or missing token just means an anonymous reader)."""
    if "token_internal" not in g:
        try:
            token = bearer_token()
            g.token_internal = token is not None and bool(
                Tokens(context.store()).verify(token, READ_INTERNAL_SCOPE))
        except (AuthenticationError, ForbiddenError):
            g.token_internal = False
    return bool(g.token_internal)


def writer() -> str:
    """Who writes: ``token:<prefix>`` for an API token with the write scope, or the user name
    of a logged-in manager or admin (their requests carry the CSRF token).

    Raises:
        AuthenticationError: neither a valid token nor a login.
        ForbiddenError: token without the scope, or a user without the role.
    """
    token = bearer_token()
    if token is not None:
        info = Tokens(context.store()).verify(token, WRITE_SCOPE)
        return f"token:{info.prefix}"
    user = context.current_user()
    if user is None:
        raise AuthenticationError("Profile ändern nur mit API-Token (Authorization: Bearer …) "
                                  "oder nach Anmeldung als Innovationsmanagement/Administration.")
    if not user.has_role(*WRITER_ROLES):
        raise ForbiddenError("Profile ändern dürfen Innovationsmanagement und Administration.")
    return user.username


def writers_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only API tokens with the write scope, managers and admins (see :func:`writer`)."""
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        g.writer = writer()
        return view(*args, **kwargs)

    wrapped.required_roles = WRITER_ROLES  # type: ignore[attr-defined]
    return wrapped


def json_body() -> Any:
    """The request's JSON body (at most MAX_BODY_BYTES); 413 when larger, 400 when not JSON."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        abort(413, description=f"Inhalt zu groß (höchstens {MAX_BODY_BYTES // 1024} KiB).")
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY_BYTES:
        abort(413, description=f"Inhalt zu groß (höchstens {MAX_BODY_BYTES // 1024} KiB).")
    body = request.get_json(silent=True)
    if body is None:
        abort(400, description="Inhalt muss gültiges JSON sein (Content-Type: "
                               "application/json), z. B. {\"name\": \"…\"}.")
    return body


def _saved(profile: Profile, status: int = 200):
    # hidden profiles are shown nowhere, not even in the answer to their own write
    record = ({"id": profile.id, "visibility": "hidden"} if profile.visibility == "hidden"
              else public_record(profile, True))
    resp = jsonify({"ok": True, "profile": record})
    resp.status_code = status
    resp.headers["Location"] = url_for("api.profile", profile_id=profile.id)
    return resp


# -- JSON API -------------------------------------------------------------------
@bp.post("/api/profiles")
@writers_only
def create():
    """Create a profile (201); the body uses the import format."""
    body = json_body()
    gaz = context.gazetteer()
    return _saved(services.write(lambda s: create_profile(s, gaz, body)), 201)


@bp.route("/api/profiles/<profile_id>", methods=["PUT", "PATCH"])
@writers_only
def update(profile_id: str):
    """PUT replaces the profile, PATCH changes the given fields (``null`` removes one)."""
    body = json_body()
    gaz, replace = context.gazetteer(), request.method == "PUT"
    return _saved(services.write(
        lambda s: update_profile(s, gaz, profile_id, body, replace=replace)))


@bp.delete("/api/profiles/<profile_id>")
@writers_only
def delete(profile_id: str):
    """Delete a profile and every trace of it (``with_children=1``: also its children)."""
    with_children = request.args.get("with_children", "") in ("1", "true", "ja")
    removed = services.write(lambda s: delete_profile(s, profile_id, with_children=with_children),
                             erase=True)
    return jsonify({"ok": True, "removed": removed})


# -- HTML forms -------------------------------------------------------------------
# Coordinates and Kreis follow from the place; the API accepts lat/lon for places without one.
FORM_FIELDS = ("kind", "name", "description", "offers", "needs", "keywords", "city", "postcode",
               "street", "institution", "parent", "career_stage", "category", "gender",
               "employees", "founded", "website", "email", "phone", "visibility")


def _form_record() -> dict[str, Any]:
    return {name: request.form.get(name, "").strip() for name in FORM_FIELDS}


def _render_form(record: dict[str, Any], *, profile_id: str | None = None,
                 problems: dict[str, str] | None = None, notice: str | None = None,
                 status: int = 200):
    choices = {"kind": KIND_LABELS, "visibility": dict(zip(VISIBILITIES, (
        "öffentlich", "nur angemeldet", "verborgen"), strict=True)),
        "career_stage": {c: c for c in CAREER_STAGES},
        "category": {c: c for c in OFFERING_CATEGORIES}, "gender": {g: g for g in GENDERS}}
    return render_template("profile_form.html", record=record, profile_id=profile_id,
                           problems=problems or {}, notice=notice, choices=choices), status


def _problems(exc: RecordError) -> dict[str, str]:
    return {p.field: p.message for p in exc.problems}


@bp.route("/profile/new", methods=["GET", "POST"])
@login_required(*WRITER_ROLES)
def new_page():
    """Form: create a profile."""
    if request.method == "GET":
        return _render_form({"visibility": "public"})
    record = _form_record()
    raw_id = request.form.get("id", "").strip()
    body = {k: v for k, v in record.items() if v != ""} | {"id": raw_id}
    gaz = context.gazetteer()
    try:
        p = services.write(lambda s: create_profile(s, gaz, body))
    except RecordError as exc:
        return _render_form(record | {"id": raw_id}, problems=_problems(exc),
                            notice=exc.message, status=400)
    return redirect(url_for("views.profile", profile_id=p.id))


@bp.route("/profile/<profile_id>/edit", methods=["GET", "POST"])
@login_required(*WRITER_ROLES)
def edit_page(profile_id: str):
    """Form: change a profile (every field; empty fields are removed)."""
    if request.method == "GET":
        try:
            current = context.store().get(profile_id)
        except NotFoundError:
            current = None
        if current is None or current.visibility == "hidden":  # hidden: only API and CLI
            abort(404, description=f"Kein Profil mit der id {profile_id!r}.")
        record = {k: v for k, v in current.to_record().items() if k in FORM_FIELDS}
        record["keywords"] = ", ".join(current.keywords)
        return _render_form(record, profile_id=profile_id)
    record = _form_record()
    body = {k: (v if v != "" else None) for k, v in record.items()}
    gaz = context.gazetteer()
    try:
        services.write(lambda s: update_profile(s, gaz, profile_id, body))
    except RecordError as exc:
        return _render_form(record, profile_id=profile_id, problems=_problems(exc),
                            notice=exc.message, status=400)
    return redirect(url_for("views.profile", profile_id=profile_id))


@bp.post("/profile/<profile_id>/delete")
@login_required(*WRITER_ROLES)
def delete_page(profile_id: str):
    """Delete a profile after the confirmation checkbox; back to the search."""
    if request.form.get("confirm") != "ja":
        abort(400, description="Bitte das Löschen mit dem Häkchen bestätigen.")
    with_children = request.form.get("with_children") == "ja"
    services.write(lambda s: delete_profile(s, profile_id, with_children=with_children),
                   erase=True)
    return render_template("profile_deleted.html", profile_id=profile_id)


# -- OpenAPI ------------------------------------------------------------------------
def openapi_paths() -> dict[str, Any]:
    """The write operations for the OpenAPI document (merged into ``webapp.openapi.spec``)."""
    from webapp import openapi as oa

    text, number = {"type": "string"}, {"type": "number"}
    props: dict[str, Any] = {name: text for name in FORM_FIELDS}
    props.update(id=oa.PROFILE_ID["schema"], lat=number, lon=number,
                 keywords={"type": "array", "items": text},
                 employees={"type": "integer"}, founded={"type": "integer"})
    body = {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "properties": props, "additionalProperties": False}}}}
    saved = oa._obj(["ok", "profile"], {"ok": {"type": "boolean"}, "profile": oa._obj(
        ["id"], {"id": text, "visibility": text}, extra=True)})  # hidden: id and visibility
    removed = oa._obj(["ok", "removed"], {"ok": {"type": "boolean"},
                                          "removed": {"type": "array", "items": text}})
    errors = oa._errors(400, 401, 403, 404, 409, 413, 503)
    auth: list[dict[str, list[str]]] = [{"apiToken": []}]

    def op(summary: str, ok_status: str, ok: dict[str, Any], with_body: bool = True,
           params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"summary": summary, "security": auth, "parameters": params or [],
                               "responses": {ok_status: oa._ok(ok), **errors}}
        if with_body:
            out["requestBody"] = body
        return out

    children = {"name": "with_children", "in": "query", "required": False,
                "schema": {"type": "string", "enum": ["1", "true", "ja"]},
                "description": "Auch die Profile löschen, die dieses als parent nennen."}
    return {
        "/api/profiles": {"post": op("Profil anlegen (Importformat; API-Token mit "
                                     "profiles:write oder Anmeldung mit CSRF-Token)", "201",
                                     saved)},
        "/api/profiles/{profile_id}": {
            "put": op("Profil ersetzen", "200", saved, params=[oa.PROFILE_ID]),
            "patch": op("Felder eines Profils ändern (null entfernt ein Feld)", "200", saved,
                        params=[oa.PROFILE_ID]),
            "delete": op("Profil mit allen abgeleiteten Daten löschen", "200", removed,
                         with_body=False, params=[oa.PROFILE_ID, children])},
    }


OPENAPI_SECURITY = {"apiToken": {"type": "http", "scheme": "bearer",
                                 "description": "API-Token aus 'matcher token create'."}}
