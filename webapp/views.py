"""German HTML views."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from matcher.errors import NotFoundError
from matcher.models import KIND_LABELS
from matcher.privacy import public_record, visible_to
from webapp import context
from webapp.api import MAX_QUERY_CHARS, keyword_results

bp = Blueprint("views", __name__)


@bp.app_context_processor
def labels():
    return {"kind_labels": KIND_LABELS}


@bp.get("/")
def index():
    text = request.args.get("text", "").strip()[:MAX_QUERY_CHARS]
    results = keyword_results(text, 20) if text else []
    return render_template("index.html", text=text, results=results,
                           stats=context.store().stats())


@bp.get("/profile/<profile_id>")
def profile(profile_id: str):
    try:
        p = context.store().get(profile_id)
    except NotFoundError:
        abort(404, description=f"Kein Profil mit der id {profile_id!r}.")
    if not visible_to(p, context.logged_in()):
        abort(404, description=f"Kein Profil mit der id {profile_id!r}.")
    return render_template("profile.html", p=public_record(p, context.logged_in()))
