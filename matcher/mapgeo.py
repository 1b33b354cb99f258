"""An offline map of Saxony drawn from the project's own gazetteer.

Each Kreis is the union of the Voronoi cells of its places (municipalities and Ortsteile), each
cell cut to a disc around its place, so the outline follows where Saxony's places are; no tile
server and no external geometry. Coordinates are kilometres on an equirectangular projection
centred on Saxony (y grows southwards, as in SVG), so a radius in km is drawn as it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from matcher.districts import DISTRICTS
from matcher.geo import Gazetteer, load_gazetteer

CELL_RADIUS_KM = 7.5  # a place's cell reaches at most this far (outer border, sparse areas)
SMOOTH_KM = 3.0  # closing radius that rounds the scalloped outer border
SIMPLIFY_KM = 0.4  # vertex tolerance of the drawn outlines (keeps the page light)
MARGIN_KM = 4.0
SHORT = {"Landkreis Sächsische Schweiz-Osterzgebirge": "Sächs. Schweiz-Osterzgeb.",
         "Landkreis Leipzig": "Landkreis Leipzig"}


@dataclass(frozen=True)
class Projection:
    """Equirectangular projection in km around a reference point."""

    lat0: float
    lon0: float
    lat_ref: float

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        kx = 111.32 * math.cos(math.radians(self.lat_ref))
        return (lon - self.lon0) * kx, (self.lat0 - lat) * 110.57


@dataclass(frozen=True)
class DistrictShape:
    name: str
    slug: str
    short: str  # label for the map
    path: str  # SVG path data
    label: tuple[float, float]  # a point inside the area for its label
    seat: tuple[float, float]  # the Kreis seat


@dataclass(frozen=True)
class SaxonyMap:
    """Kreis outlines in km; ``point`` places anything with coordinates on the same map."""

    width: float
    height: float
    projection: Projection
    districts: tuple[DistrictShape, ...]

    def point(self, lat: float, lon: float) -> tuple[float, float]:
        x, y = self.projection.xy(lat, lon)
        return round(x, 2), round(y, 2)

    def view_box(self) -> str:
        return f"0 0 {self.width:.1f} {self.height:.1f}"


def _polygons(geom: Any) -> list[Any]:
    """The polygons of a geometry (dropping the slivers of lines and points unions leave)."""
    if geom.geom_type == "Polygon":
        return [geom] if geom.area > 0.01 else []
    return [p for g in getattr(geom, "geoms", []) for p in _polygons(g)]


def _svg_path(geom: Any) -> str:
    """SVG path data for a shapely (Multi)Polygon, rings closed, 0.1 km precision."""
    parts = []
    for poly in _polygons(geom):
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords)[:-1]
            pts = " ".join(f"{x:.1f} {y:.1f}" for x, y in xy)
            parts.append(f"M{pts}Z")
    return "".join(parts)


def _cells(points: np.ndarray) -> list[Any]:
    """Bounded Voronoi cells of ``points``, each cut to a disc of CELL_RADIUS_KM."""
    from scipy.spatial import Voronoi
    from shapely.geometry import Point, Polygon

    centre = points.mean(axis=0)
    ring = np.array([(centre[0] + 2000 * math.cos(a), centre[1] + 2000 * math.sin(a))
                     for a in np.linspace(0, 2 * math.pi, 24, endpoint=False)])
    vor = Voronoi(np.vstack([points, ring]))
    cells = []
    for i, (x, y) in enumerate(points):
        region = vor.regions[vor.point_region[i]]
        disc = Point(x, y).buffer(CELL_RADIUS_KM, quad_segs=6)
        cells.append(Polygon(vor.vertices[region]).intersection(disc) if -1 not in region
                     else disc)
    return cells


def _build(gaz: Gazetteer) -> SaxonyMap:
    from shapely.ops import unary_union

    places = [p for p in gaz.places if p.district]
    lats = np.array([p.lat for p in places])
    lons = np.array([p.lon for p in places])
    proj0 = Projection(float(lats.max()), float(lons.min()), float(lats.mean()))
    xy = np.array([proj0.xy(p.lat, p.lon) for p in places])
    cells = _cells(xy)
    # Shift so the map starts at the margin.
    shapes = {}
    for d in DISTRICTS:
        shapes[d.name] = unary_union([c for c, p in zip(cells, places, strict=True)
                                      if p.district == d.name])
    # Round the scalloped outer border once for the whole state and give each bay that this
    # fills to the Kreis next to it (interior borders stay exactly the Voronoi edges).
    whole = unary_union(list(shapes.values()))
    filler = whole.buffer(SMOOTH_KM).buffer(-SMOOTH_KM).difference(whole)
    for d in DISTRICTS:
        mine = filler.intersection(shapes[d.name].buffer(SMOOTH_KM * 1.5))
        shapes[d.name] = shapes[d.name].union(mine).buffer(0.3).buffer(-0.3)
        filler = filler.difference(mine)
    whole = unary_union(list(shapes.values()))
    minx, miny, maxx, maxy = whole.bounds
    dx, dy = MARGIN_KM - minx, MARGIN_KM - miny
    kx = 111.32 * math.cos(math.radians(proj0.lat_ref))
    proj = Projection(proj0.lat0 + dy / 110.57, proj0.lon0 - dx / kx, proj0.lat_ref)
    from shapely.affinity import translate

    out = []
    for d in DISTRICTS:
        geom = translate(shapes[d.name], dx, dy).simplify(SIMPLIFY_KM)
        rep = geom.representative_point()
        seat = gaz.seat(d)
        out.append(DistrictShape(d.name, d.slug, SHORT.get(d.name, d.name.replace(
            "Landkreis ", "")), _svg_path(geom), (round(rep.x, 1),
                                 round(rep.y, 1)), proj.xy(seat.lat, seat.lon)))
    return SaxonyMap(round(maxx - minx + 2 * MARGIN_KM, 1), round(maxy - miny + 2 * MARGIN_KM, 1),
                     proj, tuple(out))


_MAPS: dict[int, tuple[Gazetteer, SaxonyMap]] = {}


def saxony_map(gazetteer: Gazetteer | None = None) -> SaxonyMap:
    """The map of Saxony with its 13 Kreise (computed once per gazetteer)."""
    gaz = gazetteer or load_gazetteer()
    if id(gaz) not in _MAPS:
        _MAPS[id(gaz)] = (gaz, _build(gaz))  # the gazetteer is kept so its id stays its own
    return _MAPS[id(gaz)][1]
