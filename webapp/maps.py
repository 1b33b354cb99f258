"""Map data for the templates: the Kreis outlines plus markers in map coordinates."""

from __future__ import annotations

from typing import Any

from matcher.mapgeo import SaxonyMap, saxony_map
from webapp import context


def base_map() -> SaxonyMap:
    return saxony_map(context.gazetteer())


def result_markers(m: SaxonyMap, results: list[dict[str, Any]], offset: int = 0) -> list[dict]:
    """One marker per result with coordinates (numbered by rank)."""
    out = []
    for i, r in enumerate(results, start=offset + 1):
        if r.get("lat") is None or r.get("lon") is None:
            continue
        x, y = m.point(r["lat"], r["lon"])
        out.append({"x": x, "y": y, "kind": r["kind"], "id": r["id"], "name": r["name"],
                    "rank": i})
    return out


def searcher(m: SaxonyMap, query: dict[str, Any] | None) -> dict[str, Any] | None:
    """The searcher's place (and radius, in km = map units) from the parsed query."""
    place = (query or {}).get("place")
    if not place:
        return None
    x, y = m.point(place["lat"], place["lon"])
    return {"x": x, "y": y, "r": query.get("radius_km") if query else None,
            "name": place["name"]}
