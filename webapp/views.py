"""German HTML views."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from matcher.errors import IndexStateError, MatcherError, NotFoundError
from matcher.models import KIND_LABELS
from matcher.privacy import public_record, visible_to
from webapp import context, intros_views, services
from webapp.api import MAX_QUERY_CHARS, keyword_results, match_args

bp = Blueprint("views", __name__)


@bp.app_context_processor
def labels():
    return {"kind_labels": KIND_LABELS}


@bp.get("/")
def index():
    text = request.args.get("text", "").strip()[:MAX_QUERY_CHARS]
    result, notice, fallback = None, None, []
    if text:
        try:
            result = services.run("match_text", text, **match_args()).as_dict()
        except IndexStateError as exc:
            notice = exc.message
            fallback = keyword_results(text, 20)
        except MatcherError as exc:
            notice = exc.message
    return render_template("index.html", text=text, result=result, notice=notice,
                           fallback=fallback, args=request.args, stats=context.store().stats())


@bp.get("/profile/<profile_id>")
def profile(profile_id: str):
    try:
        p = context.store().get(profile_id)
    except NotFoundError:
        abort(404, description=f"Kein Profil mit der id {profile_id!r}.")
    if not visible_to(p, context.logged_in()):
        abort(404, description=f"Kein Profil mit der id {profile_id!r}.")
    partners, notice = None, None
    workspace = intros_views.profile_context(p.id, p.kind)  # managers: feedback, shortlists
    try:
        partners = services.run("match_profile", p.id, limit=10, logged_in=context.logged_in(),
                                exclude_ids=workspace.get("exclude", ())).as_dict()["results"]
        partners = intros_views.order_partners(workspace, partners)
    except IndexStateError as exc:
        notice = exc.message
    return render_template("profile.html", p=public_record(p, context.logged_in()),
                           partners=partners, notice=notice, workspace=workspace)
