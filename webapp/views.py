"""German HTML views."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, abort, render_template, request, url_for

from matcher.errors import IndexStateError, MatcherError, NotFoundError
from matcher.models import CAREER_STAGE_LABELS, CATEGORY_LABELS, KIND_LABELS
from matcher.privacy import public_record, visible_to
from matcher.regions import all_regions
from webapp import context, intros_views, maps, services
from webapp.api import MAX_QUERY_CHARS, keyword_results, match_args

bp = Blueprint("views", __name__)


@bp.app_context_processor
def labels():
    return {"kind_labels": KIND_LABELS}


PAGE = 10


def _page_url(offset: int) -> str:
    params = [(k, v) for k, v in request.args.items(multi=True)
              if k not in ("offset", "partial")]
    if offset:
        params.append(("offset", str(offset)))
    return url_for("views.index") + "?" + urlencode(params)


def _edit_url(query: dict) -> str | None:
    """The parsed reading of a free-text request as explicit, editable form fields."""
    fields: list[tuple[str, str]] = [("text", query["topic"] or query["text"])]
    if query.get("place"):
        fields.append(("near", query["place"]["name"]))
    if query.get("radius_km"):
        fields.append(("radius_km", f"{query['radius_km']:g}"))
    if query.get("region"):
        fields.append(("region", query["region"]))
    fields += [("kinds", k) for k in query.get("kinds") or []]
    if fields == [("text", query["text"])]:
        return None
    return url_for("views.index") + "?" + urlencode(fields)


@bp.get("/")
def index():
    text = request.args.get("text", "").strip()[:MAX_QUERY_CHARS]
    ctx: dict = {"result": None, "notice": None, "fallback": []}
    if text:
        try:
            args = match_args()
            args["limit"] = min(args["limit"], PAGE) if request.args.get("limit") else PAGE
            result = services.run("match_text", text, **args).as_dict()
            ctx["result"] = result
            m = maps.base_map()
            ctx.update(map=m, markers=maps.result_markers(m, result["results"],
                                                         result["offset"]),
                       me=maps.searcher(m, result["query"]),
                       edit_url=_edit_url(result["query"]))
            shown = result["offset"] + len(result["results"])
            ctx["prev_url"] = (_page_url(max(0, result["offset"] - args["limit"]))
                               if result["offset"] else None)
            ctx["next_url"] = _page_url(shown) if shown < result["total"] else None
        except IndexStateError as exc:
            ctx["notice"] = exc.message
            ctx["fallback"] = keyword_results(text, 20)
        except MatcherError as exc:
            ctx["notice"] = exc.message
    if request.args.get("partial"):
        return render_template("_results.html", **ctx)
    regions = [r.name for r in all_regions(context.settings().regions, context.gazetteer())]
    kinds = set(",".join(request.args.getlist("kinds")).split(","))
    return render_template("index.html", text=text, args=request.args, regions=regions,
                           kinds=kinds, stats=None if text else context.store().stats(),
                           **ctx)


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
    parent = None
    if p.parent:
        try:
            candidate = context.store().get(p.parent)
            parent = candidate if visible_to(candidate, context.logged_in()) else None
        except NotFoundError:
            parent = None
    return render_template("profile.html", p=public_record(p, context.logged_in()),
                           partners=partners, notice=notice, workspace=workspace, parent=parent,
                           stage_labels=CAREER_STAGE_LABELS, category_labels=CATEGORY_LABELS)
