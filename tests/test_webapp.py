from __future__ import annotations

import json

import pytest

from matcher.ingest import ingest_files
from matcher.store import Store
from tests.conftest import PROFILES
from webapp import create_app


@pytest.fixture
def app(data_dir, gazetteer, tmp_path):
    with Store(data_dir) as s:
        ingest_files(s, [PROFILES], gazetteer)
        hidden = tmp_path / "versteckt.jsonl"
        hidden.write_text(json.dumps({
            "id": "t-hidden", "kind": "company", "name": "Geheimfirma", "city": "Riesa",
            "description": "Galvanik im Verborgenen", "visibility": "hidden"}), encoding="utf-8")
        ingest_files(s, [hidden], gazetteer)
    return create_app({"data_dir": str(data_dir), "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"ok": True, "profiles": 21, "warm": False}


def test_profile_api_hides_contact_fields_and_keeps_umlauts(client):
    resp = client.get("/api/profiles/t-co-01")
    data = resp.get_json()
    assert data["name"] == "Flöhataler Metallbau GmbH"
    assert "Flöhataler" in resp.get_data(as_text=True)  # not \u00f6
    for field in ("email", "phone", "street"):
        assert field not in data


@pytest.mark.parametrize("pid", ["t-hidden", "t-co-08", "gibt-es-nicht"])
def test_hidden_internal_and_missing_are_404_in_one_shape(client, pid):
    resp = client.get(f"/api/profiles/{pid}")
    assert resp.status_code == 404
    assert resp.get_json() == {"ok": False, "error": resp.get_json()["error"], "status": 404}


def test_search_api(client):
    data = client.get("/api/search?text=Galvanik").get_json()
    ids = [r["id"] for r in data]
    assert "t-co-07" in ids and "t-hidden" not in ids


@pytest.mark.parametrize("query", ["", "?text=", "?text=a&limit=0", "?text=a&limit=x",
                                   "?text=" + "a" * 3000])
def test_search_api_rejects_bad_parameters(client, query):
    resp = client.get("/api/search" + query)
    assert resp.status_code == 400
    assert set(resp.get_json()) == {"ok", "error", "status"}


def test_html_pages(client):
    page = client.get("/?text=Wasserstoff").get_data(as_text=True)
    assert "Wasserstoffwerk Lausitz" in page and 'lang="de"' in page
    profile = client.get("/profile/t-co-01").get_data(as_text=True)
    assert "Flöhataler Metallbau" in profile
    assert "info@floehataler.example" not in profile
    assert client.get("/profile/t-hidden").status_code == 404


def test_templates_escape_markup(client, data_dir, gazetteer, tmp_path):
    evil = tmp_path / "evil.jsonl"
    evil.write_text(json.dumps({"id": "x-1", "kind": "company", "name": "<script>alert(1)</script>",
                                "description": "Galvanik <b>fett</b>", "city": "Riesa"}),
                    encoding="utf-8")
    with Store(data_dir) as s:
        ingest_files(s, [evil], gazetteer)
    page = client.get("/profile/x-1").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


@pytest.fixture
def indexed_client(indexed_store, data_dir):
    app = create_app({"data_dir": str(data_dir), "embedder": "hashing",
                      "sentence_embedder": "hashing", "TESTING": True})
    return app.test_client()


def test_api_match_with_index(indexed_client):
    resp = indexed_client.get("/api/match?text=Wasserstoff%20Elektrolyse&near=G%C3%B6rlitz"
                              "&kinds=researcher,chair&limit=5")
    data = resp.get_json()
    assert resp.status_code == 200 and data["query"]["place"]["name"] == "Görlitz"
    assert data["results"] and {r["kind"] for r in data["results"]} <= {"researcher", "chair"}
    assert "Warum" not in resp.get_data(as_text=True)
    first = data["results"][0]
    assert {"id", "score", "distance_km", "why"} <= set(first) and "email" not in first


@pytest.mark.parametrize("query", ["?text=a&radius_km=-3", "?text=a&kinds=fabrik",
                                   "?text=a&lat=51", "?text=a&near=Oelsnitz", "?near=Freiberg",
                                   "?text=a&limit=1000"])
def test_api_match_rejects_bad_parameters(indexed_client, query):
    resp = indexed_client.get("/api/match" + query)
    assert resp.status_code == 400
    assert set(resp.get_json()) == {"ok", "error", "status"}


def test_profile_matches_and_page(indexed_client):
    data = indexed_client.get("/api/profiles/t-co-05/matches?limit=3").get_json()
    assert data["profile"]["id"] == "t-co-05" and len(data["results"]) == 3
    assert indexed_client.get("/api/profiles/t-co-08/matches").status_code == 404
    page = indexed_client.get("/profile/t-co-05").get_data(as_text=True)
    assert "Passende Partner in Ihrer Nähe" in page and "Warum dieser Vorschlag?" in page
    search = indexed_client.get("/?text=Galvanik+Chrom&near=Freiberg").get_data(as_text=True)
    assert "Gesucht:" in search and "/100" in search


def test_slam_api_exports_and_page(indexed_client):
    regions = indexed_client.get("/api/regions").get_json()
    assert len([r for r in regions if "districts" in r]) >= 13
    data = indexed_client.get("/api/slam?region=Erzgebirgskreis&size=2").get_json()
    assert data["region"] == "Erzgebirgskreis" and 1 <= len(data["speakers"]) <= 2
    assert set(data) == {"region", "venue", "themes", "speakers", "coverage", "gaps",
                         "demand"}
    assert data["demand"]["read"] == data["demand"]["smes"] == len(
        {sme for t in data["themes"] for sme in t["smes"]})
    near = indexed_client.get("/api/slam?near=Freiberg&radius_km=60&size=2").get_json()
    assert near["region"] == "Umkreis 60 km um Freiberg"
    csv_resp = indexed_client.get("/api/slam/export.csv?region=Erzgebirgskreis&size=2")
    assert csv_resp.status_code == 200 and "Name" in csv_resp.get_data(as_text=True)
    ics = indexed_client.get("/api/slam/export.ics?region=Erzgebirgskreis&date=2027-03-18")
    assert ics.data.startswith(b"BEGIN:VCALENDAR") and "attachment" in ics.headers[
        "Content-Disposition"]
    assert indexed_client.get("/api/slam/export.ics?region=Erzgebirgskreis").status_code == 400
    page = indexed_client.get("/slam?region=Erzgebirgskreis&size=2&date=2027-03-18")
    html = page.get_data(as_text=True)
    assert "Inno Slam Erzgebirgskreis" in html and "Termin (.ics)" in html


@pytest.mark.parametrize("query", ["", "?region=Atlantis", "?region=Erzgebirgskreis&size=99",
                                   "?region=Erzgebirgskreis&max_travel_km=x",
                                   "?near=Oelsnitz"])
def test_slam_api_rejects_bad_parameters(indexed_client, query):
    resp = indexed_client.get("/api/slam" + query)
    assert resp.status_code in (400, 404)
    assert set(resp.get_json()) == {"ok", "error", "status"}


def test_warm_up_prepares_every_kreis_demand(indexed_client):
    from matcher.regions import district_regions
    from webapp import services
    from webapp.server import warm_up

    app = indexed_client.application
    warm_up(app)
    assert indexed_client.get("/healthz").get_json()["warm"] is True
    with app.app_context():
        planner = services.holder()._snapshot.planner
        warmed = {key[0] for key in planner._demand}
    assert warmed == {repr(r) for r in district_regions()}
