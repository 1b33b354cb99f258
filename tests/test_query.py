from __future__ import annotations

import pytest

from matcher.query import parse_query

REGIONS = ("Lausitz", "Oberlausitz", "Erzgebirge", "Vogtland", "Region Chemnitz")


def parse(text, gazetteer):
    return parse_query(text, gazetteer, REGIONS)


def test_chair_radius_place(gazetteer):
    p = parse("Lehrstuhl für Oberflächentechnik im Umkreis von 40 km um Freiberg", gazetteer)
    assert p.kinds == ("chair",) and p.place.name == "Freiberg" and p.radius_km == 40
    assert p.topic == "Oberflächentechnik"
    assert p.interpretation() == ("Gesucht: Oberflächentechnik · Art: Lehrstuhl · Ort: Freiberg"
                                  " · Umkreis: 40 km")


def test_startups_in_region(gazetteer):
    p = parse("Start-ups in der Lausitz", gazetteer)
    assert p.kinds == ("startup",) and p.region == "Lausitz" and p.place is None
    assert p.topic == "" and p.search_text == "Start-ups in der Lausitz"


def test_lab_near_place_has_no_hard_radius(gazetteer):
    p = parse("Labor in der Nähe von Chemnitz", gazetteer)
    assert p.kinds == ("offering",) and p.place.name == "Chemnitz" and p.radius_km is None
    assert p.topic == "Labor"


def test_in_place_gets_default_radius(gazetteer):
    p = parse("Forscherin zu Wasserstoff in Görlitz", gazetteer)
    assert p.kinds == ("researcher",) and p.place.district == "Landkreis Görlitz"
    assert p.radius_km == 20 and p.topic == "Wasserstoff"


def test_district_names_are_regions(gazetteer):
    p = parse("Firmen mit Galvanik im Landkreis Mittelsachsen", gazetteer)
    assert p.region == "Landkreis Mittelsachsen" and p.kinds == ("company",)


@pytest.mark.parametrize("text", [
    "Wir suchen jemanden, der Edelstahl verzugsarm schweißen kann",
    "Rissprüfung an Gussteilen",
])
def test_plain_problem_stays_topic(gazetteer, text):
    p = parse(text, gazetteer)
    assert p.place is None and p.kinds is None and p.region is None and p.topic == text


def test_ambiguous_place_is_noted_not_guessed(gazetteer):
    p = parse("Textilrecycling bei Oelsnitz", gazetteer)
    assert p.place is None and "Oelsnitz/Vogtl." in p.notes[0]


def test_english_query(gazetteer):
    p = parse("Who can help with laser welding near Zwickau?", gazetteer)
    assert p.place.name == "Zwickau" and p.topic == "Who can help with laser welding"
