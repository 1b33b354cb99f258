from __future__ import annotations

import csv
import datetime as dt
import io
import json

import numpy as np
import pytest

from matcher.cli import cli
from matcher.indexer import build_index
from matcher.ingest import ingest_files
from matcher.search import Matcher
from matcher.slam import SlamOptions, SlamPlanner
from matcher.slam_export import lineup_csv, lineup_html, lineup_ics

EXTRA = [
    {"id": f"t-rs-2{i}", "kind": "researcher", "name": name, "parent": parent, "institution": inst,
     "city": city, "career_stage": stage, "description": desc}
    for i, (name, parent, inst, city, stage, desc) in enumerate([
        ("Dr. Ole Brandt", "t-ch-01", "TU Chemnitz", "Chemnitz", "postdoc",
         "Verzugsarmes Schweißen von Edelstahl mit Laser und Sensorik."),
        ("Mia Hartung", "t-ch-01", "TU Chemnitz", "Chemnitz", "doctoral",
         "Laserstrahlschweißen dünner Bleche, Prozessüberwachung."),
        ("Prof. Dr. Karl Adler", "t-ch-02", "TU Bergakademie Freiberg", "Freiberg", "professor",
         "Galvanik und Hartverchromung ohne Chrom(VI)."),
        ("Lena Fuchs", "t-ch-03", "Hochschule Zittau/Görlitz", "Zittau", "doctoral",
         "Wasserstoff-Elektrolyse für Gewerbebetriebe, Betriebsführung."),
    ])]
REGIONS = {"Ganz Sachsen": {"center": "Chemnitz", "radius_km": 250}}


@pytest.fixture
def planner(loaded_store, settings, gazetteer, tmp_path):
    path = tmp_path / "forschende.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in EXTRA), encoding="utf-8")
    ingest_files(loaded_store, [path], gazetteer)
    s = settings.replace(regions=REGIONS, slam_covered_at=0.3, slam_floor=0.1)
    build_index(loaded_store, s)
    return SlamPlanner(Matcher(loaded_store, s, gazetteer))


def test_lineup_respects_constraints(planner):
    lineup = planner.plan("Ganz Sachsen", SlamOptions(size=4, max_per_institution=1))
    people = [s.profile for s in lineup.speakers]
    assert 1 <= len(people) <= 4
    assert all(p.kind == "researcher" and p.career_stage != "professor" for p in people)
    insts = [p.institution for p in people]
    assert len(insts) == len(set(insts))
    assert lineup.themes and sum(len(t.smes) for t in lineup.themes) == len(planner.smes(
        lineup.region))
    assert 0.0 <= lineup.coverage <= 1.0


def test_travel_limit_exclusions_and_professors(planner):
    near = planner.plan("Ganz Sachsen", SlamOptions(size=5, venue="Görlitz", max_travel_km=40))
    assert {s.profile.id for s in near.speakers} <= {"t-rs-03", "t-rs-23"}
    assert all(s.distance_km <= 40 for s in near.speakers)
    without = planner.plan("Ganz Sachsen", SlamOptions(size=6, exclude=frozenset({"t-rs-01"})))
    assert "t-rs-01" not in {s.profile.id for s in without.speakers}
    assert "t-rs-22" not in {s.profile.id for s in without.speakers}
    profs = planner.plan("Ganz Sachsen", SlamOptions(size=7, allow_professors=True))
    assert "t-rs-22" in {s.profile.id for s in profs.speakers}


def test_deterministic_and_json_contract(planner):
    a = planner.plan("Ganz Sachsen").as_dict()
    b = planner.plan("Ganz Sachsen").as_dict()
    assert a == b
    assert set(a) == {"region", "venue", "themes", "speakers", "coverage", "gaps",
                      "demand"}
    assert set(a["themes"][0]) >= {"label", "weight", "smes"}
    assert set(a["speakers"][0]) >= {"id", "name", "institution", "career_stage", "themes",
                                     "serves", "distance_km", "why"}
    assert a["venue"]["id"] == "t-off-01"  # the only event space


def test_tour_invites_nobody_twice(planner):
    tour = planner.tour(["Ganz Sachsen", "Landkreis Görlitz", "Chemnitz"],
                        SlamOptions(size=2, max_stops_per_person=1))
    ids = [s.profile.id for lu in tour for s in lu.speakers]
    assert len(ids) == len(set(ids)) and len(tour) == 3


def test_exports_open(planner):
    from icalendar import Calendar

    lineup = planner.plan("Ganz Sachsen", SlamOptions(size=3))
    cal = Calendar.from_ical(lineup_ics(lineup, dt.datetime(2027, 3, 18, 18, 0)))
    (event,) = [c for c in cal.walk("VEVENT")]
    assert str(event["summary"]) == "Inno Slam Ganz Sachsen"
    assert event.decoded("dtstart") == dt.datetime(2027, 3, 18, 18, 0)
    rows = list(csv.reader(io.StringIO(lineup_csv(lineup).lstrip("\ufeff")), delimiter=";"))
    assert rows[0][1] == "Name" and len(rows) == len(lineup.speakers) + 1
    page = lineup_html(lineup, dt.date(2027, 3, 18))
    assert "18.03.2027" in page and lineup.speakers[0].profile.name in page
    assert "@media print" in page


def test_cli_slam(runner, planner, data_dir, tmp_path):
    env = {"MATCHER_EMBEDDER": "hashing", "MATCHER_SENTENCE_EMBEDDER": "hashing",
           "MATCHER_REGIONS": json.dumps(REGIONS)}
    ics = tmp_path / "slam.ics"
    out = runner.invoke(cli, ["--data-dir", str(data_dir), "slam", "--region", "Ganz Sachsen",
                              "--size", "3", "--date", "2027-03-18T18:00", "--ics", str(ics),
                              "--json"], env=env)
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["region"] == "Ganz Sachsen" and ics.read_bytes().startswith(
        b"BEGIN:VCALENDAR")
    bad = runner.invoke(cli, ["--data-dir", str(data_dir), "slam", "--region", "x", "--ics",
                              str(ics)], env=env)
    assert bad.exit_code == 2 and "--date" in bad.output


def test_tour_violations_are_detected(planner):
    from matcher.slam_eval import tour_violations

    opts = SlamOptions(size=2, max_stops_per_person=1)
    tour = planner.tour(["Ganz Sachsen", "Chemnitz"], opts)
    assert tour_violations(tour, opts) == []
    strict = SlamOptions(size=2, max_per_institution=0, max_travel_km=1.0)
    assert tour_violations(tour, strict)


def test_tour_reinvites_only_to_close_a_gap(planner):
    from matcher.slam_eval import tour_violations

    once = SlamOptions(size=2, max_stops_per_person=1)
    twice = SlamOptions(size=2, max_stops_per_person=2)
    regions = ["Ganz Sachsen", "Ganz Sachsen"]
    strict = planner.tour(regions, once)
    assert not {s.profile.id for s in strict[0].speakers} & {
        s.profile.id for s in strict[1].speakers}
    relaxed = planner.tour(regions, twice)
    assert tour_violations(relaxed, twice) == []
    repeat = {s.profile.id for s in relaxed[0].speakers} & {s.profile.id for s in
                                                            relaxed[1].speakers}
    if repeat:  # only when it closed a gap the second stop would otherwise have
        assert len(relaxed[1].gaps) < len(strict[1].gaps)


def test_circle_region_from_cli(runner, planner, data_dir):
    env = {"MATCHER_EMBEDDER": "hashing", "MATCHER_SENTENCE_EMBEDDER": "hashing"}
    out = runner.invoke(cli, ["--data-dir", str(data_dir), "slam", "--near", "Freiberg",
                              "--radius-km", "80", "--size", "2", "--json"], env=env)
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["region"] == "Umkreis 80 km um Freiberg" and len(data["speakers"]) <= 2
    both = runner.invoke(cli, ["--data-dir", str(data_dir), "slam", "--near", "Freiberg",
                               "--region", "Chemnitz"], env=env)
    assert both.exit_code == 2


def test_swapping_a_speaker_gives_the_predicted_coverage(planner):
    before = planner.plan("Ganz Sachsen", SlamOptions(size=2))
    out = before.speakers[0]
    assert out.alternative_details, "a pool this size has alternatives"
    alt = out.alternative_details[0]
    keep = [s.profile.id for s in before.speakers[1:]]
    after = planner.plan("Ganz Sachsen", SlamOptions(
        size=2, exclude=frozenset({out.profile.id}), pinned=(*keep, alt["id"])))
    assert {s.profile.id for s in after.speakers} == {*keep, alt["id"]}
    assert out.profile.id not in {s.profile.id for s in after.speakers}
    assert after.coverage == pytest.approx(alt["coverage"], abs=1e-3)


def test_pinned_speaker_is_kept_even_when_weak(planner):
    weakest = planner.plan("Ganz Sachsen", SlamOptions(size=6)).speakers[-1].profile.id
    pinned = planner.plan("Ganz Sachsen", SlamOptions(size=1, pinned=(weakest,)))
    assert [s.profile.id for s in pinned.speakers] == [weakest]


def test_every_kreis_can_be_planned_even_without_smes(planner):
    from matcher.regions import district_regions

    empty = [r for r in district_regions() if not planner.smes(r)]
    assert empty, "the small fixture leaves some Kreise without SMEs"
    for region in district_regions():
        lineup = planner.plan(region, SlamOptions(size=1))
        assert lineup.region == region and lineup.venue_point[0] > 50


def test_kmeans_labels_are_remembered_by_content():
    from matcher import themes

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(12, 4)).astype(np.float32)
    first = themes._kmeans(vectors, 3)
    assert themes._kmeans(vectors.copy(), 3) is first  # same content: no new clustering
    other = vectors.copy()
    other[0] += 1.0
    assert themes._kmeans(other, 3) is not first
    assert themes._kmeans(vectors, 2) is not first


def _planner_with(planner: SlamPlanner, **changes) -> SlamPlanner:
    m = planner.m
    return SlamPlanner(Matcher(m.store, m.settings.replace(**changes), m.gazetteer,
                               index=m.index))


def _read(lineup) -> set[str]:
    return {sme for t in lineup.themes for sme in t.smes}


def test_a_region_with_more_smes_than_the_sample_is_read_from_a_stable_sample(planner):
    full = planner.plan("Ganz Sachsen", SlamOptions(size=3))
    total = full.smes_total
    assert full.smes_read == total >= 5 and len(_read(full)) == total
    assert full.as_dict()["demand"] == {"smes": total, "read": total}

    small = _planner_with(planner, slam_sample=3)
    lineup = small.plan("Ganz Sachsen", SlamOptions(size=3))
    assert (lineup.smes_read, lineup.smes_total) == (3, total)
    assert lineup.as_dict()["demand"] == {"smes": total, "read": 3}
    assert len(_read(lineup)) == 3 and _read(lineup) < _read(full)
    # each sampled SME stands for total / 3 of the region's SMEs
    assert sum(t.weight for t in lineup.themes) == pytest.approx(total)
    assert len(small._background()) == 3
    # the same sample in a planner of its own (the choice depends on the ids only)
    assert _read(_planner_with(planner, slam_sample=3).plan(
        "Ganz Sachsen", SlamOptions(size=3))) == _read(lineup)


def test_many_researchers_in_reach_are_narrowed_to_those_nearest_the_demand(planner):
    from matcher.regions import find_region

    region = find_region("Ganz Sachsen", planner.settings.regions, planner.m.gazetteer)
    smes, vectors, themes = planner.demand(region)
    _, point = planner.venue_for(region, smes, None, False)
    opts = SlamOptions(allow_professors=True)
    everyone = planner._pool(opts, point, vectors, themes)
    narrow = _planner_with(planner, slam_candidates=2)
    pool = narrow._pool(opts, point, vectors, themes)
    assert 0 < len(pool) < len(everyone)
    assert {p.id for p, _ in pool} <= {p.id for p, _ in everyone}
    # one search per theme and one for all needs, a candidate each: the researcher nearest
    # the centre of all needs is among them
    centre = vectors.mean(axis=0)
    docs = planner.m.index.docs.vectors(planner.m.table.pks[
        [planner.m.table.pos[p.id] for p, _ in everyone]])
    nearest = everyone[int(np.argmax(docs @ centre))][0].id
    assert nearest in {p.id for p, _ in pool}
    lineup = narrow.plan("Ganz Sachsen", SlamOptions(size=2, allow_professors=True))
    assert {s.profile.id for s in lineup.speakers} <= {p.id for p, _ in pool}


def test_region_counts_from_the_table_agree_with_the_store(planner):
    from collections import Counter

    from matcher.overview import region_counts
    from matcher.privacy import visible_to

    for logged_in in (False, True):
        got = {c.region.name: dict(c.by_kind) for c in region_counts(planner, logged_in)}
        want: dict[str, Counter[str]] = {}
        for _, p in planner.m.store.iter_profiles():
            if p.district in got and visible_to(p, logged_in):
                want.setdefault(p.district, Counter())[p.kind] += 1
        assert {k: v for k, v in got.items() if v} == {k: dict(v) for k, v in want.items()}
        assert len(got) == 13


def test_a_profile_hidden_since_the_index_was_built_leaves_the_line_up(planner):
    import dataclasses

    before = planner.plan("Ganz Sachsen", SlamOptions(size=3))
    sme = sorted(_read(before))[0]
    speaker = before.speakers[0].profile.id
    store = planner.m.store
    store.upsert([dataclasses.replace(store.get(pid), visibility="hidden")
                  for pid in (sme, speaker)])
    after = _planner_with(planner).plan("Ganz Sachsen", SlamOptions(size=3))  # same index
    assert sme not in _read(after)
    assert speaker not in {s.profile.id for s in after.speakers}
    assert all(sme != p.id for s in after.speakers for p in s.serves)
