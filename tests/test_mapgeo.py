from __future__ import annotations

import re

from shapely.geometry import Point, Polygon
from shapely.ops import unary_union

from matcher.districts import DISTRICTS
from matcher.mapgeo import saxony_map


def _shape(path: str):
    rings = []
    for ring in re.findall(r"M([^Z]+)Z", path):
        nums = [float(v) for v in ring.split()]
        rings.append(Polygon(list(zip(nums[::2], nums[1::2], strict=True))))
    # evenodd: holes are rings inside others; symmetric difference handles both
    shape = rings[0]
    for r in rings[1:]:
        shape = shape.symmetric_difference(r)
    return shape


def test_thirteen_kreise_cover_their_places(gazetteer):
    m = saxony_map(gazetteer)
    assert [d.name for d in m.districts] == [d.name for d in DISTRICTS]
    shapes = {d.name: _shape(d.path) for d in m.districts}
    inside = total = 0
    for p in gazetteer.places:
        x, y = m.point(p.lat, p.lon)
        assert 0 <= x <= m.width and 0 <= y <= m.height
        total += 1
        inside += shapes[p.district].buffer(0.5).contains(Point(x, y))
    assert inside / total > 0.97, (inside, total)
    for d in m.districts:
        assert shapes[d.name].buffer(0.5).contains(Point(*d.seat)), d.name
        assert shapes[d.name].buffer(0.5).contains(Point(*d.label)), d.name


def test_kreise_do_not_overlap_and_form_one_state(gazetteer):
    m = saxony_map(gazetteer)
    shapes = [_shape(d.path) for d in m.districts]
    whole = unary_union(shapes)
    assert sum(s.area for s in shapes) <= whole.area * 1.02  # overlaps under 2 %
    # Saxony is about 18,400 km²; the drawn state is within a fifth of that.
    assert 0.8 * 18_400 < whole.area < 1.2 * 18_400


def test_projection_keeps_distances_in_km(gazetteer):
    m = saxony_map(gazetteer)
    dresden, leipzig = gazetteer.resolve("Dresden"), gazetteer.resolve("Leipzig")
    (x1, y1), (x2, y2) = m.point(dresden.lat, dresden.lon), m.point(leipzig.lat, leipzig.lon)
    assert abs(((x1 - x2) ** 2 + (y1 - y2) ** 2) ** 0.5 - 100.5) < 1.5  # 100.5 km great circle
    assert x1 > x2 and y1 > y2  # Dresden lies east and south of Leipzig
