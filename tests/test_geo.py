from __future__ import annotations

import pytest

from matcher.districts import DISTRICTS, find_district
from matcher.errors import AmbiguousPlaceError, UnknownPlaceError
from matcher.geo import distance_km, place_key


def test_freiberg(gazetteer):
    p = gazetteer.resolve("Freiberg")
    assert p.district == "Landkreis Mittelsachsen"
    assert p.lat == pytest.approx(50.91, abs=0.03)
    assert p.lon == pytest.approx(13.34, abs=0.03)


@pytest.mark.parametrize(
    ("name", "district"),
    [
        ("Oelsnitz/Erzgeb.", "Erzgebirgskreis"),
        ("Oelsnitz (Erzgeb.)", "Erzgebirgskreis"),
        ("oelsnitz im erzgebirge", "Erzgebirgskreis"),
        ("Oelsnitz/Vogtl.", "Vogtlandkreis"),
        ("Weißwasser/O.L.", "Landkreis Görlitz"),
        ("Weisswasser", "Landkreis Görlitz"),
        ("Reichenbach im Vogtland", "Vogtlandkreis"),
        ("Reichenbach/Vogtl.", "Vogtlandkreis"),
        ("Aue-Bad Schlema", "Erzgebirgskreis"),
        ("Bad Schlema", "Erzgebirgskreis"),
        ("Stollberg/Erzgeb.", "Erzgebirgskreis"),
        ("Stollberg", "Erzgebirgskreis"),
        ("MEISSEN", "Landkreis Meißen"),
        ("Görlitz", "Landkreis Görlitz"),
        ("Goerlitz", "Landkreis Görlitz"),
        ("Leipzig", "Leipzig"),
        ("Borna", "Landkreis Leipzig"),
        ("Olbernhau", "Erzgebirgskreis"),
        ("Torgau", "Landkreis Nordsachsen"),
        ("Pirna", "Landkreis Sächsische Schweiz-Osterzgebirge"),
        ("Kamenz", "Landkreis Bautzen"),
        ("Zwickau", "Landkreis Zwickau"),
        ("Plauen", "Vogtlandkreis"),
        ("Chemnitz", "Chemnitz"),
        ("Dresden", "Dresden"),
    ],
)
def test_resolve_spellings(gazetteer, name, district):
    assert gazetteer.resolve(name).district == district


def test_oelsnitz_variants_differ(gazetteer):
    a = gazetteer.resolve("Oelsnitz/Erzgeb.")
    b = gazetteer.resolve("Oelsnitz/Vogtl.")
    assert a.district != b.district
    assert distance_km(a.lat, a.lon, b.lat, b.lon) > 40


def test_oelsnitz_alone_is_ambiguous(gazetteer):
    with pytest.raises(AmbiguousPlaceError) as exc:
        gazetteer.resolve("Oelsnitz")
    assert set(exc.value.candidates) == {"Oelsnitz/Erzgeb.", "Oelsnitz/Vogtl."}
    assert "meinten Sie" in exc.value.message


def test_unknown_place_suggests_close_names(gazetteer):
    with pytest.raises(UnknownPlaceError) as exc:
        gazetteer.resolve("Olbernhaus")
    assert "Olbernhau" in exc.value.candidates


def test_unknown_place_without_candidates(gazetteer):
    with pytest.raises(UnknownPlaceError):
        gazetteer.resolve("Xyzzyhausen am Meer")


def test_distance_dresden_leipzig(gazetteer):
    dd, lpz = gazetteer.resolve("Dresden"), gazetteer.resolve("Leipzig")
    assert distance_km(dd.lat, dd.lon, lpz.lat, lpz.lon) == pytest.approx(100, abs=8)


def test_district_at_coordinates(gazetteer):
    assert gazetteer.district_at(50.912, 13.342) == "Landkreis Mittelsachsen"
    assert gazetteer.district_at(51.34, 12.37) == "Leipzig"
    assert gazetteer.district_at(50.64, 13.47) == "Erzgebirgskreis"


def test_every_district_has_municipalities_and_resolvable_seat(gazetteer):
    munis = gazetteer.municipalities()
    assert len(munis) >= 400
    for d in DISTRICTS:
        assert any(p.district == d.name for p in munis), d.name
        assert gazetteer.seat(d).district == d.name


def test_every_municipality_resolves_or_names_itself_among_candidates(gazetteer):
    for p in gazetteer.municipalities():
        try:
            found = gazetteer.resolve(p.name)
        except AmbiguousPlaceError as exc:
            # every suggested spelling must itself resolve, one of them to this municipality
            resolved = [gazetteer.resolve(c) for c in exc.candidates]
            assert p in resolved, p.name
        else:
            assert found.municipality == p.municipality, p.name


def test_auerbach_asks_and_qualified_names_resolve(gazetteer):
    with pytest.raises(AmbiguousPlaceError) as exc:
        gazetteer.resolve("Auerbach")
    assert "Auerbach/Vogtl." in exc.value.candidates
    assert gazetteer.resolve("Auerbach (Erzgebirgskreis)").district == "Erzgebirgskreis"
    assert gazetteer.resolve("Auerbach, Vogtland").district == "Vogtlandkreis"
    assert gazetteer.resolve("Auerbach/Vogtl.").district == "Vogtlandkreis"


def test_municipality_near_its_district_seat(gazetteer):
    seats = {d.name: gazetteer.seat(d) for d in DISTRICTS}
    for p in gazetteer.municipalities():
        s = seats[p.district]
        assert distance_km(p.lat, p.lon, s.lat, s.lon) < 60, p.name


def test_place_key_folds_spelling():
    assert place_key("Weißwasser/O.L.") == place_key("weisswasser oberlausitz")
    assert place_key("Reichenbach im Vogtland") == place_key("Reichenbach/Vogtl.")


@pytest.mark.parametrize(
    ("text", "name"),
    [("Mittelsachsen", "Landkreis Mittelsachsen"), ("LK Leipzig", "Landkreis Leipzig"),
     ("Leipzig", "Leipzig"), ("vogtland", "Vogtlandkreis"),
     ("Landkreis Görlitz", "Landkreis Görlitz"),
     ("saechsische-schweiz-osterzgebirge", "Landkreis Sächsische Schweiz-Osterzgebirge")],
)
def test_find_district(text, name):
    d = find_district(text)
    assert d is not None and d.name == name


def test_radius_filter_with_bounding_box_equals_measuring_everyone():
    """ProfileTable.within measures only the points in the circle's bounding box; it selects
    exactly the points that measuring every distance selects, also right at the radius."""
    import math

    import numpy as np

    from matcher.filters import ProfileTable
    from matcher.geo import distances_km

    rng = np.random.default_rng(7)
    centres = [(50.9, 13.3), (51.5, 14.9), (50.2, 12.1), (89.9, 0.0), (-33.9, 151.2)]
    for lat0, lon0 in centres:
        for radius in (0.5, 12.0, 40.0, 160.0, 3000.0):
            lats = list(lat0 + rng.uniform(-3, 3, 3000))
            lons = list(lon0 + rng.uniform(-4, 4, 3000))
            for bearing in np.linspace(0, 2 * math.pi, 72, endpoint=False):  # on the circle
                for r in (radius * (1 - 1e-9), radius, radius * (1 + 1e-9)):
                    a, p1, l1 = r / 6371.0088, math.radians(lat0), math.radians(lon0)
                    p2 = math.asin(math.sin(p1) * math.cos(a)
                                   + math.cos(p1) * math.sin(a) * math.cos(bearing))
                    l2 = l1 + math.atan2(math.sin(bearing) * math.sin(a) * math.cos(p1),
                                         math.cos(a) - math.sin(p1) * math.sin(p2))
                    lats.append(math.degrees(p2))
                    lons.append((math.degrees(l2) + 540) % 360 - 180)
            lats.append(None)  # a profile without coordinates
            lons.append(None)
            rows = [{"pk": i, "id": f"p{i}", "kind": "company", "visibility": "public",
                     "district": None, "parent": None, "lat": la, "lon": lo}
                    for i, (la, lo) in enumerate(zip(lats, lons, strict=True))]
            table = ProfileTable(rows)
            with np.errstate(invalid="ignore"):
                everyone = distances_km(lat0, lon0, table.lat, table.lon) <= radius
            assert np.array_equal(table.within((lat0, lon0), radius), everyone), (lat0, radius)
