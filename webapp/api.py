"""JSON API under /api and the health check."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from matcher.errors import MatcherError, NotFoundError
from matcher.filters import Filters
from matcher.models import KINDS
from matcher.privacy import public_record, visible_to
from matcher.retrieval import KeywordRetriever
from webapp import context, intros_views, services

bp = Blueprint("api", __name__)
MAX_QUERY_CHARS = 2000
MAX_LIMIT = 100


@bp.get("/healthz")
def healthz():
    return jsonify({"ok": True, "profiles": context.store().count(),
                    "warm": current_app.extensions["matcher_warm"].is_set()})


@bp.get("/api/stats")
def stats():
    return jsonify(context.store().stats())


@bp.get("/api/profiles/<profile_id>")
def profile(profile_id: str):
    p = context.store().get(profile_id)
    if not visible_to(p, context.logged_in()):
        raise NotFoundError(f"Kein Profil mit der id {profile_id!r}.")
    return jsonify(public_record(p, context.logged_in()))


@bp.get("/api/geo")
def geo():
    place = request.args.get("place", "").strip()
    if not place:
        raise MatcherError("Parameter 'place' fehlt, z. B. /api/geo?place=Freiberg")
    return jsonify(context.gazetteer().resolve(place).as_dict())


def parse_limit(raw: str | None, default: int = 20) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise MatcherError(f"'limit' muss eine ganze Zahl sein, nicht {raw!r}.") from None
    if not 1 <= value <= MAX_LIMIT:
        raise MatcherError(f"'limit' muss zwischen 1 und {MAX_LIMIT} liegen.")
    return value


def _float(name: str, low: float, high: float) -> float | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        raise MatcherError(f"'{name}' muss eine Zahl sein, nicht {raw!r}.") from None
    if not low <= value <= high:
        raise MatcherError(f"'{name}' muss zwischen {low:g} und {high:g} liegen.")
    return value


def _kinds() -> list[str] | None:
    raw = ",".join(request.args.getlist("kinds"))
    kinds = [k.strip() for k in raw.split(",") if k.strip()]
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise MatcherError(f"Unbekannte Art(en) {', '.join(bad)} — erlaubt: {', '.join(KINDS)}.")
    return kinds or None


def match_args() -> dict:
    """Validated match parameters shared by the API and the HTML views."""
    lat, lon = _float("lat", -90, 90), _float("lon", -180, 180)
    if (lat is None) != (lon is None):
        raise MatcherError("'lat' und 'lon' nur gemeinsam angeben.")
    near = request.args.get("near", "").strip()[:200] or None
    region = request.args.get("region", "").strip()[:200] or None
    offset = int(_float("offset", 0, 10_000) or 0)
    return {"near": near, "lat": lat, "lon": lon, "radius_km": _float("radius_km", 1, 500),
            "kinds": _kinds(), "region": region, "limit": parse_limit(request.args.get("limit"),
                                                                      10),
            "offset": offset, "logged_in": context.logged_in()}


def required_text() -> str:
    """The validated ``text`` parameter (present, at most MAX_QUERY_CHARS characters)."""
    text = request.args.get("text", "").strip()
    if not text:
        raise MatcherError("Parameter 'text' fehlt, z. B. ?text=Galvanik&near=Freiberg")
    if len(text) > MAX_QUERY_CHARS:
        raise MatcherError(f"'text' ist zu lang (höchstens {MAX_QUERY_CHARS} Zeichen).")
    return text


@bp.get("/api/match")
def match():
    """Partners for a free-text request (same parameter names as ``matcher match``)."""
    return jsonify(services.run("match_text", required_text(), **match_args()).as_dict())


@bp.get("/api/profiles/<profile_id>/matches")
def profile_matches(profile_id: str):
    """Partners for a profile."""
    args = match_args()
    for unused in ("near", "lat", "lon"):
        args.pop(unused)
    workspace = intros_views.profile_context(profile_id)  # managers: feedback, "nur_neue"
    result = services.run("match_profile", profile_id, exclude_ids=workspace.get("exclude", ()),
                          **args).as_dict()
    result["results"] = intros_views.order_partners(workspace, result["results"])
    return jsonify(result)


@bp.get("/api/search")
def search():
    """Keyword search (FTS5/BM25) over visible profiles."""
    return jsonify(keyword_results(required_text(), parse_limit(request.args.get("limit"))))


def keyword_results(text: str, limit: int) -> list[dict]:
    store, logged_in = context.store(), context.logged_in()
    out = []
    for pid, score in KeywordRetriever(store).retrieve(text, Filters(logged_in=logged_in), limit):
        p = store.get(pid)
        if visible_to(p, logged_in):
            rec = public_record(p, logged_in)
            out.append({"id": p.id, "kind": p.kind, "name": p.name, "city": p.city,
                        "district": p.district, "score": round(score, 3),
                        "description": rec["description"]})
    return out
