"""Introductions workspace: pages (forms, no JS needed) and JSON under /api/shortlists and
/api/intros. Every view is for managers (and admins); the library checks ownership."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for

from matcher.accounts import User
from matcher.audit import offset_clock
from matcher.errors import IndexStateError, MatcherError, NotFoundError
from matcher.explain import Explanation
from matcher.intro_draft import draft_eml, explain_pair
from matcher.intro_report import outcome_report, report_csv
from matcher.intros import (
    CLIENT_KINDS,
    DECLINE_REASONS,
    OUTCOMES,
    STATUS_LABELS,
    Feedback,
    Intros,
)
from webapp import context, services
from webapp.auth import login_required, safe_next

bp = Blueprint("intros", __name__)
MANAGER = "manager"


def workspace() -> Intros:
    """The workspace over this request's store, on the (possibly offset) clock."""
    return Intros(context.store(), offset_clock(context.settings().clock_offset_days))


def _user() -> User:
    user = context.current_user()
    assert user is not None  # login_required ran
    return user


def _is_manager() -> bool:
    user = context.current_user()
    return user is not None and user.has_role(MANAGER)


def _payload() -> dict[str, Any]:
    """JSON body or form fields as one mapping."""
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else request.form.to_dict()


def _field(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    return "" if value is None else str(value)


def _explanation(client_id: str, partner_id: str) -> Explanation | None:
    """The pair's match explanation, or None when the index is not built yet (or does not
    hold one of them yet)."""
    try:
        mine = services.run("sentences", client_id)
        theirs = services.run("sentences", partner_id)
        store = context.store()
        return explain_pair(store.get(client_id), store.get(partner_id), mine, theirs)
    except (IndexStateError, KeyError, NotFoundError):
        return None


# -- hooks for other pages ----------------------------------------------------
def profile_context(profile_id: str, kind: str | None = None) -> dict[str, Any]:
    """For a manager on a profile page: the client's feedback and shortlists, the
    "nur neue Kontakte" choice and the ids to leave out; empty for everyone else."""
    if not _is_manager():
        return {}
    ws = workspace()
    fb = ws.feedback(profile_id)
    only_new = request.args.get("nur_neue") == "1"
    return {"feedback": fb, "only_new": only_new, "exclude": fb.exclude_ids(only_new),
            "is_client": kind in CLIENT_KINDS,
            "shortlists": ws.shortlists(_user(), profile_id)}


def order_partners(ctx: dict[str, Any], results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Known pairs behind new ones (with their status), when the manager context has feedback."""
    fb: Feedback | None = ctx.get("feedback")
    return fb.order(results) if fb is not None else results


def account_summary() -> dict[str, Any]:
    """What "Mein Bereich" shows a manager: introductions, shortlists, due follow-ups."""
    if not _is_manager():
        return {}
    ws, user = workspace(), _user()
    return {"intros": ws.introductions(user), "shortlists": ws.shortlists(user),
            "due": len(ws.due_followups(user))}


@bp.app_context_processor
def template_helpers() -> dict[str, Any]:
    def workspace_shortlists(client_id: str | None = None) -> list[Any]:
        if not _is_manager():
            return []
        ws, user = workspace(), _user()
        return ws.shortlists(user, client_id) or ws.shortlists(user)

    return {"workspace_shortlists": workspace_shortlists, "status_labels": STATUS_LABELS,
            "decline_reasons": DECLINE_REASONS, "outcomes": OUTCOMES}


# -- pages ----------------------------------------------------------------------
@bp.get("/shortlists")
@login_required(MANAGER)
def shortlists_page():
    return render_template("shortlists.html", shortlists=workspace().shortlists(_user()),
                           client=request.args.get("client", "")[:64])


@bp.post("/shortlists")
@login_required(MANAGER)
def create_shortlist_form():
    sl = workspace().create_shortlist(_user(), request.form.get("name", ""),
                                      request.form.get("client_id", ""))
    return redirect(safe_next(request.form.get("next"),
                              url_for("intros.shortlist_page", pk=sl.pk)))


@bp.get("/shortlists/<int:pk>")
@login_required(MANAGER)
def shortlist_page(pk: int):
    return render_template("shortlist.html", sl=workspace().shortlist(_user(), pk))


@bp.post("/shortlists/eintrag")
@login_required(MANAGER)
def add_item_form():
    """Add a candidate from any result list (the shortlist is a form field)."""
    try:
        pk = int(request.form.get("shortlist", ""))
    except ValueError:
        raise MatcherError("Merkliste: bitte eine auswählen.") from None
    workspace().add_to_shortlist(_user(), pk, request.form.get("profile_id", ""),
                                 request.form.get("note", ""))
    return redirect(safe_next(request.form.get("next"),
                              url_for("intros.shortlist_page", pk=pk)))


@bp.post("/shortlists/<int:pk>/items/<profile_id>/remove")
@login_required(MANAGER)
def remove_item_form(pk: int, profile_id: str):
    workspace().remove_from_shortlist(_user(), pk, profile_id)
    return redirect(url_for("intros.shortlist_page", pk=pk))


@bp.post("/intros")
@login_required(MANAGER)
def create_intro_form():
    client, partner = request.form.get("client_id", ""), request.form.get("partner_id", "")
    intro = workspace().create_introduction(_user(), client, partner,
                                            _explanation(client, partner))
    return redirect(url_for("intros.intro_page", pk=intro.pk))


@bp.get("/intros/<int:pk>")
@login_required(MANAGER)
def intro_page(pk: int):
    ws, user = workspace(), _user()
    return render_template("intro.html", intro=ws.introduction(user, pk),
                           history=ws.history(user, pk), saved=request.args.get("gespeichert"))


@bp.post("/intros/<int:pk>/draft")
@login_required(MANAGER)
def save_draft_form(pk: int):
    workspace().save_draft(_user(), pk, request.form.get("subject", ""),
                           request.form.get("body", ""))
    return redirect(url_for("intros.intro_page", pk=pk, gespeichert=1))


@bp.post("/intros/<int:pk>/status")
@login_required(MANAGER)
def change_status_form(pk: int):
    f = request.form
    workspace().change_status(_user(), pk, f.get("status", ""), reason=f.get("reason") or None,
                              outcome=f.get("outcome") or None, note=f.get("note", ""))
    return redirect(url_for("intros.intro_page", pk=pk))


@bp.post("/intros/<int:pk>/followup")
@login_required(MANAGER)
def followup_form(pk: int):
    workspace().record_followup(_user(), pk, request.form.get("note", ""))
    return redirect(safe_next(request.form.get("next"), url_for("intros.intro_page", pk=pk)))


@bp.get("/intros/<int:pk>/entwurf.eml")
@login_required(MANAGER)
def draft_download(pk: int):
    user = _user()
    intro = workspace().introduction(user, pk)
    body = draft_eml(intro.subject, intro.body, to=intro.partner_email, sender=user.label,
                     sender_email=user.email, date=dt.datetime.now(dt.UTC))
    return Response(body, mimetype="message/rfc822", headers={
        "Content-Disposition": f'attachment; filename="vorstellung-{pk}.eml"'})


@bp.get("/followups")
@login_required(MANAGER)
def followups_page():
    return render_template("followups.html", due=workspace().due_followups(_user()))


@bp.get("/report")
@login_required(MANAGER)
def report_page():
    return render_template("report.html", rows=outcome_report(context.store(), _user()))


@bp.get("/report.csv")
@login_required(MANAGER)
def report_download():
    body = report_csv(outcome_report(context.store(), _user())).encode("utf-8")
    return Response(body, mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="vorstellungen-ergebnisse.csv"'})


# -- JSON API -------------------------------------------------------------------
@bp.get("/api/shortlists")
@login_required(MANAGER)
def api_shortlists():
    client = request.args.get("client") or None
    return jsonify([s.as_dict() for s in workspace().shortlists(_user(), client)])


@bp.post("/api/shortlists")
@login_required(MANAGER)
def api_create_shortlist():
    data = _payload()
    sl = workspace().create_shortlist(_user(), _field(data, "name"), _field(data, "client_id"))
    return jsonify(sl.as_dict()), 201


@bp.get("/api/shortlists/<int:pk>")
@login_required(MANAGER)
def api_shortlist(pk: int):
    return jsonify(workspace().shortlist(_user(), pk).as_dict())


@bp.post("/api/shortlists/<int:pk>/items")
@login_required(MANAGER)
def api_add_item(pk: int):
    data = _payload()
    sl = workspace().add_to_shortlist(_user(), pk, _field(data, "profile_id"),
                                      _field(data, "note"))
    return jsonify(sl.as_dict())


@bp.delete("/api/shortlists/<int:pk>/items/<profile_id>")
@login_required(MANAGER)
def api_remove_item(pk: int, profile_id: str):
    return jsonify(workspace().remove_from_shortlist(_user(), pk, profile_id).as_dict())


@bp.get("/api/intros")
@login_required(MANAGER)
def api_intros():
    statuses = [s for s in request.args.get("status", "").split(",") if s] or None
    return jsonify([i.as_dict() for i in workspace().introductions(_user(), statuses)])


@bp.post("/api/intros")
@login_required(MANAGER)
def api_create_intro():
    data = _payload()
    client, partner = _field(data, "client_id"), _field(data, "partner_id")
    intro = workspace().create_introduction(_user(), client, partner,
                                            _explanation(client, partner))
    return jsonify(intro.as_dict()), 201


@bp.get("/api/intros/<int:pk>")
@login_required(MANAGER)
def api_intro(pk: int):
    ws, user = workspace(), _user()
    return jsonify({**ws.introduction(user, pk).as_dict(), "history": ws.history(user, pk)})


@bp.put("/api/intros/<int:pk>/draft")
@login_required(MANAGER)
def api_save_draft(pk: int):
    data = _payload()
    intro = workspace().save_draft(_user(), pk, _field(data, "subject"), _field(data, "body"))
    return jsonify(intro.as_dict())


@bp.post("/api/intros/<int:pk>/status")
@login_required(MANAGER)
def api_change_status(pk: int):
    data = _payload()
    intro = workspace().change_status(_user(), pk, _field(data, "status"),
                                      reason=_field(data, "reason") or None,
                                      outcome=_field(data, "outcome") or None,
                                      note=_field(data, "note"))
    return jsonify(intro.as_dict())


@bp.post("/api/intros/<int:pk>/followup")
@login_required(MANAGER)
def api_followup(pk: int):
    intro = workspace().record_followup(_user(), pk, _field(_payload(), "note"))
    return jsonify(intro.as_dict())


@bp.get("/api/intros/followups")
@login_required(MANAGER)
def api_followups():
    return jsonify([f.as_dict() for f in workspace().due_followups(_user())])


@bp.get("/api/intros/report")
@login_required(MANAGER)
def api_report():
    return jsonify([r.as_dict() for r in outcome_report(context.store(), _user())])


# -- OpenAPI ----------------------------------------------------------------------
def openapi_paths() -> dict[str, Any]:
    """The workspace operations for the OpenAPI document (merged into ``webapp.openapi.spec``)."""
    from webapp import openapi as oa

    text, obj = {"type": "string"}, {"type": "object", "additionalProperties": True}
    array = {"type": "array", "items": obj}
    pk = {"name": "pk", "in": "path", "required": True, "schema": {"type": "integer"}}
    errors = oa._errors(400, 401, 403, 404, 409)
    note = (" Nur nach Anmeldung (Sitzungs-Cookie) als Innovationsmanagement oder "
            "Administration; schreibende Aufrufe mit Kopfzeile X-CSRF-Token.")

    def op(summary: str, ok: dict[str, Any], params: list[dict[str, Any]] | None = None,
           body: dict[str, Any] | None = None, status: str = "200") -> dict[str, Any]:
        out: dict[str, Any] = {"summary": summary, "description": summary + note,
                               "parameters": params or [],
                               "responses": {status: oa._ok(ok), **errors}}
        if body is not None:
            schema = {"type": "object", "properties": {k: text for k in body["fields"]}}
            if body["required"]:
                schema["required"] = body["required"]
            out["requestBody"] = {"required": True,
                                  "content": {"application/json": {"schema": schema}}}
        return out

    client = oa._query("client", {"type": "string", "maxLength": 64}, "Nur für diesen Kunden.")
    status = oa._query("status", {"type": "string", "maxLength": 200},
                       "Status, kommagetrennt (z. B. angefragt,angenommen).")
    return {
        "/api/shortlists": {
            "get": op("Eigene Merklisten", array, [client]),
            "post": op("Merkliste für einen Kunden anlegen", obj, body={
                "fields": ["name", "client_id"], "required": ["name", "client_id"]},
                status="201")},
        "/api/shortlists/{pk}": {"get": op("Eine Merkliste mit Kandidaten", obj, [pk])},
        "/api/shortlists/{pk}/items": {"post": op(
            "Kandidat (mit Notiz) auf die Merkliste", obj, [pk],
            body={"fields": ["profile_id", "note"], "required": ["profile_id"]})},
        "/api/shortlists/{pk}/items/{profile_id}": {"delete": op(
            "Kandidat von der Merkliste nehmen", obj, [pk, oa.PROFILE_ID])},
        "/api/intros": {
            "get": op("Eigene Vorstellungen", array, [status]),
            "post": op("Vorstellung mit Double-Opt-in-Entwurf anlegen", obj, body={
                "fields": ["client_id", "partner_id"], "required": ["client_id", "partner_id"]},
                status="201")},
        "/api/intros/{pk}": {"get": op("Eine Vorstellung mit Verlauf", obj, [pk])},
        "/api/intros/{pk}/draft": {"put": op("Entwurf (Betreff, Text) speichern", obj, [pk],
                                             body={"fields": ["subject", "body"],
                                                   "required": ["subject", "body"]})},
        "/api/intros/{pk}/status": {"post": op(
            "Status ändern (abgelehnt: reason; Ergebnis: outcome)", obj, [pk],
            body={"fields": ["status", "reason", "outcome", "note"], "required": ["status"]})},
        "/api/intros/{pk}/followup": {"post": op("Nachfassen vermerken", obj, [pk],
                                                 body={"fields": ["note"], "required": []})},
        "/api/intros/followups": {"get": op("Fällig zum Nachfassen (7/14/21 Tage)", array)},
        "/api/intros/report": {"get": op("Ergebnisbericht je Manager:in und Region", array)},
    }
