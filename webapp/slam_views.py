"""Inno Slam planner: JSON API, exports and the German planner page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request, url_for

from matcher.errors import IndexStateError, MatcherError
from matcher.regions import all_regions, circle_region
from matcher.slam import SlamOptions
from matcher.slam_export import lineup_csv, lineup_html, lineup_ics
from webapp import context, services

bp = Blueprint("slam", __name__)
TOUR = "__tour__"  # planner choice: one stop in each of the 13 Kreise


def _options() -> SlamOptions:
    s = context.settings()
    try:
        size = int(request.args.get("size") or s.slam_size)
        travel = float(request.args.get("max_travel_km") or s.slam_max_travel_km)
    except ValueError:
        raise MatcherError("'size' und 'max_travel_km' müssen Zahlen sein.") from None
    if not 1 <= size <= 10:
        raise MatcherError("'size' muss zwischen 1 und 10 liegen.")
    if not 5 <= travel <= 500:
        raise MatcherError("'max_travel_km' muss zwischen 5 und 500 liegen.")
    exclude = frozenset(x.strip() for x in request.args.get("exclude", "").split(",")
                        if x.strip())
    pinned = tuple(x.strip() for x in request.args.get("pin", "").split(",") if x.strip())
    return SlamOptions(size=size, max_per_institution=s.slam_max_per_institution,
                       max_travel_km=travel, exclude=exclude, pinned=pinned[:10],
                       max_stops_per_person=s.slam_max_stops_per_person,
                       venue=(request.args.get("venue") or "").strip()[:200] or None,
                       logged_in=context.logged_in())


def _region():
    near = (request.args.get("near") or "").strip()[:200]
    if near:
        try:
            radius = float(request.args.get("radius_km") or 30)
        except ValueError:
            raise MatcherError("'radius_km' muss eine Zahl sein.") from None
        return circle_region(near, radius, context.gazetteer())
    name = (request.args.get("region") or "").strip()[:200]
    if not name:
        raise MatcherError("Parameter 'region' (oder 'near') fehlt, z. B. ?region=Erzgebirgskreis")
    return name


def _date() -> dt.datetime | None:
    raw = (request.args.get("date") or "").strip()
    if not raw:
        return None
    try:
        return dt.datetime.fromisoformat(raw if "T" in raw else raw + "T18:00")
    except ValueError:
        raise MatcherError("'date' im Format 2027-03-18 oder 2027-03-18T18:00.") from None


@bp.get("/api/regions")
def regions():
    found = all_regions(context.settings().regions, context.gazetteer())
    return jsonify([r.as_dict() for r in found])


@bp.get("/api/slam")
def slam():
    """An Inno Slam line-up for a region (or a place and radius)."""
    return jsonify(services.run("plan", _region(), _options(), slam=True).as_dict())


@bp.get("/api/slam/tour")
def tour():
    names = [r.strip() for r in request.args.get("regions", "").split(",") if r.strip()] or None
    lineups = services.run("tour", names, _options(), slam=True)
    return jsonify([lu.as_dict() for lu in lineups])


@bp.get("/api/slam/export.<fmt>")
def export(fmt: str):
    """Downloads: CSV (Excel), iCalendar (needs ``date``), printable programme (HTML)."""
    if fmt not in ("csv", "ics", "html"):
        raise MatcherError("Format: csv, ics oder html.")
    start = _date()
    if fmt == "ics" and start is None:
        raise MatcherError("Für .ics bitte 'date' angeben, z. B. date=2027-03-18T18:00")
    lineup = services.run("plan", _region(), _options(), slam=True)
    name = f"inno-slam-{lineup.region.slug}"
    if fmt == "csv":
        body, mime = lineup_csv(lineup).encode("utf-8"), "text/csv; charset=utf-8"
    elif fmt == "ics":
        body, mime = lineup_ics(lineup, start or dt.datetime.now()), "text/calendar"
    else:
        body = lineup_html(lineup, start.date() if start else None).encode("utf-8")
        mime = "text/html; charset=utf-8"
    disposition = "inline" if fmt == "html" else f'attachment; filename="{name}.{fmt}"'
    return Response(body, mimetype=mime, headers={"Content-Disposition": disposition})


def _add_swap_links(lineup: dict) -> None:
    """Per alternative: a planner link that swaps it in for the speaker (the others stay)."""
    ids = [sp["id"] for sp in lineup["speakers"]]
    excluded = [x for x in request.args.get("exclude", "").split(",") if x.strip()]
    base: dict[str, Any] = {k: v for k, v in request.args.items()
                            if k not in ("exclude", "pin", "prev")}
    for sp in lineup["speakers"]:
        for alt in sp["alternative_details"]:
            pins = [i for i in ids if i != sp["id"]] + [alt["id"]]
            alt["swap_url"] = url_for("slam.planner_page", **base,
                                      exclude=",".join([*excluded, sp["id"]]),
                                      pin=",".join(pins), prev=lineup["coverage"])


@bp.get("/slam")
def planner_page():
    """The planner: choose region, size, date, venue; see themes, line-up, gaps, downloads."""
    names = [r.name for r in all_regions(context.settings().regions, context.gazetteer())]
    lineup, notice, tour_rows = None, None, None
    if request.args.get("region") == TOUR:
        try:
            tour_rows = [lu.as_dict() for lu in
                         services.run("tour", None, _options(), slam=True)]
        except MatcherError as exc:
            notice = exc.message
    elif request.args.get("region") or request.args.get("near"):
        try:
            lineup = services.run("plan", _region(), _options(), slam=True).as_dict()
            _date()
            _add_swap_links(lineup)
        except IndexStateError as exc:
            notice = exc.message
        except MatcherError as exc:
            notice = exc.message
    prev = _prev_coverage()
    return render_template("slam.html", regions=names, lineup=lineup, notice=notice,
                           args=request.args, prev=prev, tour=tour_rows, TOUR=TOUR)


def _prev_coverage() -> float | None:
    try:
        value = float(request.args.get("prev", ""))
    except ValueError:
        return None
    return value if 0 <= value <= 1 else None
