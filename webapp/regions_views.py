"""Region overview: actors per Kreis on a map, and per region its demand themes and gaps."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template

from matcher.errors import IndexStateError, NotFoundError
from matcher.overview import GROUPS, region_counts, region_overview
from matcher.regions import find_region
from matcher.slam import SlamOptions
from webapp import context, maps, services

bp = Blueprint("regions", __name__)


def _options() -> SlamOptions:
    s = context.settings()
    return SlamOptions(size=s.slam_size, max_per_institution=s.slam_max_per_institution,
                       max_travel_km=s.slam_max_travel_km, logged_in=context.logged_in())


def _levels(counts: dict[str, int]) -> dict[str, int]:
    """Shade 0–3 by the number of SMEs (quartiles over the Kreise)."""
    values = sorted(counts.values())
    cuts = [values[len(values) * q // 4] for q in (1, 2, 3)]
    return {name: sum(n >= c for c in cuts) for name, n in counts.items()}


@bp.get("/regionen")
def overview_page():
    counts = services.call(region_counts, context.logged_in(), slam=True)
    smes = {c.region.name: c.groups()["KMU"] + c.groups()["Start-ups"] for c in counts}
    return render_template("regions.html", counts=counts, groups=list(GROUPS),
                           map=maps.base_map(), levels=_levels(smes))


def _overview(slug: str):
    region = find_region(slug, context.settings().regions, context.gazetteer())
    return services.call(region_overview, region, _options(), slam=True)


@bp.get("/regionen/<slug>")
def region_page(slug: str):
    try:
        ov, notice = _overview(slug), None
    except NotFoundError:
        abort(404, description=f"Keine Region {slug!r}.")
    except IndexStateError as exc:
        ov, notice = None, exc.message
    return render_template("region.html", ov=ov, notice=notice, map=maps.base_map(),
                           groups=list(GROUPS))


@bp.get("/api/regions/<slug>")
def region_api(slug: str):
    """Counts, demand themes and gaps of one region."""
    return jsonify(_overview(slug).as_dict())
