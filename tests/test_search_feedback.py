"""Re-ranking aids of the matcher: a named client's needs, feedback, relevance shared within an
organisation (fast tests with the hashing embedder)."""

from __future__ import annotations

import json

import pytest

from matcher.indexer import build_index
from matcher.ingest import ingest_files
from matcher.search import Matcher

TOPIC = "Ultraschallprüfung von Klebverbindungen an Rotorblättern aus Glasfaserverbund"


def add(store, gazetteer, tmp_path, records):
    path = tmp_path / "family.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records),
                    encoding="utf-8")
    ingest_files(store, [path], gazetteer)


@pytest.fixture
def family_store(indexed_store, settings, gazetteer, tmp_path):
    add(indexed_store, gazetteer, tmp_path, [
        {"id": "t-ch-20", "kind": "chair", "name": "Professur für Zerstörungsfreie Prüfung",
         "institution": "TU Dresden", "city": "Dresden",
         "description": "Prüfverfahren für Bauteile aller Art, Akustik und Wellenausbreitung."},
        {"id": "t-rs-20", "kind": "researcher", "name": "Dr. Lotte Hahn", "parent": "t-ch-20",
         "institution": "TU Dresden", "city": "Dresden", "career_stage": "postdoc",
         "description": TOPIC + ".", "offers": TOPIC + ", Prüfkonzepte."},
        {"id": "t-ch-21", "kind": "chair", "name": "Professur für Windenergietechnik",
         "institution": "TU Dresden", "city": "Dresden",
         "description": "Anlagen, Netze und Betrieb von Windparks."},
        {"id": "t-rs-21", "kind": "researcher", "name": "Verborgener Forscher",
         "parent": "t-ch-21", "institution": "TU Dresden", "city": "Dresden",
         "description": TOPIC + ".", "visibility": "hidden"},
    ])
    build_index(indexed_store, settings)
    return indexed_store


def signals(result, pid):
    return next(m for m in result.matches if m.profile.id == pid).explanation.signals


def test_a_chair_borrows_relevance_from_its_researcher(family_store, settings, gazetteer):
    m = Matcher(family_store, settings, gazetteer)
    r = m.match_text(TOPIC, kinds=["chair"], limit=20, parse=False)
    assert {x.profile.kind for x in r.matches} == {"chair"}  # the researcher only lends
    assert signals(r, "t-ch-20")["organisation"] > 0
    off = Matcher(family_store, settings.replace(family_weight=0), gazetteer)
    r0 = off.match_text(TOPIC, kinds=["chair"], limit=20, parse=False)
    assert signals(r0, "t-ch-20")["organisation"] == 0
    assert r.matches[0].profile.id == "t-ch-20"
    assert next(x.raw for x in r.matches if x.profile.id == "t-ch-20") > next(
        x.raw for x in r0.matches if x.profile.id == "t-ch-20")


def test_relatives_join_the_pool_only_through_the_filters(family_store, settings, gazetteer):
    m = Matcher(family_store, settings, gazetteer)
    r = m.match_text(TOPIC, kinds=["researcher"], limit=50, parse=False)
    assert {x.profile.kind for x in r.matches} == {"researcher"}
    assert "t-rs-20" in [x.profile.id for x in r.matches]


def test_hidden_relatives_lend_nothing(family_store, settings, gazetteer):
    m = Matcher(family_store, settings, gazetteer)
    for logged_in in (False, True):
        r = m.match_text(TOPIC, kinds=["chair"], limit=20, parse=False, logged_in=logged_in)
        assert signals(r, "t-ch-21")["organisation"] == 0


def test_feedback_is_a_setting_and_keeps_results_valid(family_store, settings, gazetteer):
    with_fb = Matcher(family_store, settings, gazetteer).match_text(TOPIC, limit=10)
    without = Matcher(family_store, settings.replace(feedback_weight=0), gazetteer).match_text(
        TOPIC, limit=10)
    assert with_fb.matches[0].profile.id == without.matches[0].profile.id == "t-rs-20"
    assert [x.profile.id for x in with_fb.matches] != [] and len(with_fb.matches) == 10


def test_a_named_client_is_searched_for_by_its_needs(indexed_store, settings, gazetteer):
    # t-co-07 needs Chrom(VI)-free hard chrome plating; the request itself says nothing topical
    m = Matcher(indexed_store, settings.replace(client_needs_weight=1.0), gazetteer)
    r = m.match_text("Wer kann der Oelsnitzer Galvanik GmbH helfen?", limit=3)
    assert r.parsed.client == ("t-co-07", "Oelsnitzer Galvanik GmbH")
    found = [x.profile.id for x in r.matches]
    assert "t-co-07" not in found and {"t-ch-02", "t-rs-02"} & set(found)
    # the client's name is not part of the text its partners are compared with
    assert all("oelsnitzer" not in t for x in r.matches for t in x.explanation.terms)
