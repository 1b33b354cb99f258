"""Leak walk: every GET page, API endpoint, export and explanation (discovered from the app's
URL map), as an anonymous visitor and as a logged-in user: ``hidden`` profiles never appear,
``internal`` ones and contact fields (email, phone, street) only for logged-in users."""

from __future__ import annotations

import tempfile

import pytest

from matcher.accounts import Accounts
from matcher.cli import cli
from matcher.indexer import build_index
from matcher.ingest import ingest_files
from matcher.profiles import create_profile
from matcher.settings import load_settings
from matcher.store import Store
from tests.conftest import PROFILES
from tests.walk import Page, found, get_rules, walk
from webapp import create_app

PW = "Glück-auf-2026"
HIDDEN, INTERNAL = "Verborgenwerk8812", "Internhaus5521"
CONTACT = {"email": "geheim-kontakt@galvanik-beispiel.example", "phone": "+49 3731 555-98765",
           "street": "Heimlichgasse 77"}
TOPIC = "Galvanik Hartverchromung Oberflächenprüfung Freiberg"
EXTRA = [
    {"id": "t-vis-hidden", "kind": "company", "name": f"{HIDDEN} Galvanik GmbH",
     "city": "Freiberg", "visibility": "hidden", "description": f"{HIDDEN}: Galvanik und "
     "Hartverchromung im Verborgenen.", "offers": f"Hartverchromung, {HIDDEN}-Prüfung.",
     "needs": "Oberflächenprüfung galvanischer Schichten.", "email": f"{HIDDEN}@example.org"},
    {"id": "t-vis-internal", "kind": "chair", "name": f"Professur {INTERNAL} Galvanotechnik",
     "city": "Freiberg", "visibility": "internal", "institution": "TU Bergakademie Freiberg",
     "description": f"{INTERNAL}: Forschung zu Galvanik und Oberflächenprüfung.",
     "offers": "Hartverchromung ohne Chrom(VI), Schichtprüfung, Galvanik-Beratung."},
    {"id": "t-vis-contact", "kind": "company", "name": "Freiberger Oberflächen GmbH",
     "city": "Freiberg", "description": "Galvanik und Hartverchromung für den Maschinenbau.",
     "needs": "Oberflächenprüfung und Schichtdickenmessung.", **CONTACT},
]
VALUES = {"profile_id": ["t-vis-hidden", "t-vis-internal", "t-vis-contact", "t-co-07"],
          "pk": ["1"], "fmt": ["csv", "ics", "html"],
          "slug": ["mittelsachsen", "region-chemnitz"]}
QUERIES = [{"text": TOPIC, "region": "Landkreis Mittelsachsen", "date": "2027-03-18T18:00",
            "place": "Freiberg", "limit": "50"},
           {"text": "Hartverchromung Schichtprüfung", "near": "Freiberg", "radius_km": "50"}]
# Pages echo the request, so the queries find the profiles without naming the markers.


def _rules_app():
    with tempfile.TemporaryDirectory() as d:
        return create_app({"data_dir": d, "SECRET_KEY": "nur-zum-aufzählen", "TESTING": True})


RULES = get_rules(_rules_app())


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("sichtbarkeit") / "instance"
    settings = load_settings({"data_dir": str(data_dir), "embedder": "hashing",
                              "sentence_embedder": "hashing"}, environ={})
    from matcher.geo import load_gazetteer

    gaz = load_gazetteer()
    with Store(data_dir) as store:
        ingest_files(store, [PROFILES], gaz)
        for record in EXTRA:
            create_profile(store, gaz, record)
        build_index(store, settings)
        Accounts(store).add("adam", PW, "admin")
    app = create_app({"data_dir": str(data_dir), "embedder": "hashing",
                      "sentence_embedder": "hashing", "TESTING": True})
    anon, user = app.test_client(), app.test_client()
    user.get("/login")
    with user.session_transaction() as s:
        token = s["csrf"]
    assert user.post("/login", data={"username": "adam", "password": PW,
                                     "csrf_token": token}).status_code == 302
    with user.session_transaction() as s:
        token = s["csrf"]
    # a shortlist and an introduction, so their pages and explanations are walked too
    user.post("/api/shortlists", json={"name": "Galvanik", "client_id": "t-vis-contact"},
              headers={"X-CSRF-Token": token})
    user.post("/api/intros", json={"client_id": "t-vis-contact", "partner_id": "t-vis-internal"},
              headers={"X-CSRF-Token": token})
    return {"app": app, "anon": anon, "user": user, "data_dir": data_dir}


def _pages(site, who: str, rule) -> list[Page]:
    return list(walk(site[who], site["app"], VALUES, QUERIES, rules=[rule]))


@pytest.mark.parametrize("rule", RULES, ids=[f"{r.endpoint}:{r.rule}" for r in RULES])
def test_anonymous_sees_no_hidden_internal_or_contact(site, rule):
    pages = _pages(site, "anon", rule)
    assert [p.url for p in pages if p.status >= 500] == []
    assert found(pages, HIDDEN, INTERNAL, *CONTACT.values()) == []


@pytest.mark.parametrize("rule", RULES, ids=[f"{r.endpoint}:{r.rule}" for r in RULES])
def test_logged_in_user_never_sees_hidden(site, rule):
    pages = _pages(site, "user", rule)
    assert [p.url for p in pages if p.status >= 500] == []
    assert found(pages, HIDDEN) == []


def test_logged_in_user_sees_internal_and_contact(site):
    user = site["user"]
    profile = user.get("/api/profiles/t-vis-contact").get_json()
    assert {k: profile.get(k) for k in CONTACT} == CONTACT
    assert user.get("/api/profiles/t-vis-internal").status_code == 200
    ids = [r["id"] for r in user.get("/api/match", query_string={"text": TOPIC,
                                                                  "limit": 50}).get_json()[
        "results"]]
    assert "t-vis-internal" in ids and "t-vis-hidden" not in ids
    anon_ids = [r["id"] for r in site["anon"].get("/api/match", query_string={
        "text": TOPIC, "limit": 50}).get_json()["results"]]
    assert "t-vis-contact" in anon_ids and "t-vis-internal" not in anon_ids


def test_walk_covers_every_get_route(site):
    walked = {r.rule for r in RULES}
    every = {r.rule for r in site["app"].url_map.iter_rules()
             if "GET" in (r.methods or ()) and r.endpoint != "static"}
    assert walked == every


@pytest.mark.parametrize("args", [
    ["match", "--text", TOPIC, "--json", "--limit", "50"],
    ["match", "--profile", "t-vis-contact", "--json", "--limit", "50"],
    ["slam", "--region", "Landkreis Mittelsachsen", "--json"],
    ["slam", "--region", "Landkreis Mittelsachsen", "--csv", "-"],
])
def test_cli_without_internal_shows_neither(site, runner, monkeypatch, args, tmp_path):
    monkeypatch.setenv("MATCHER_EMBEDDER", "hashing")
    monkeypatch.setenv("MATCHER_SENTENCE_EMBEDDER", "hashing")
    if "-" in args:
        args = [a if a != "-" else str(tmp_path / "out.csv") for a in args]
    res = runner.invoke(cli, ["--data-dir", str(site["data_dir"]), *args])
    assert res.exit_code == 0, res.output
    text = res.output + "".join(p.read_text("utf-8") for p in tmp_path.glob("*.csv"))
    for needle in (HIDDEN, INTERNAL, *CONTACT.values()):
        assert needle.lower() not in text.lower()
