"""Search page with map, filters and pages; region overview; Inno Slam swap links."""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import parse_qs, urlparse

import pytest

from webapp import create_app


@pytest.fixture
def client(indexed_store, data_dir):
    app = create_app({"data_dir": str(data_dir), "embedder": "hashing",
                      "sentence_embedder": "hashing", "TESTING": True})
    return app.test_client()


def _ids(html: str) -> list[str]:
    return re.findall(r'<h2><a href="/profile/([^"]+)"', html)


def test_results_page_draws_map_with_markers_and_radius(client):
    html = client.get("/?text=Schwei%C3%9Fen&near=Freiberg&radius_km=60").get_data(as_text=True)
    assert html.count('<path class="kreis') == 13
    markers = re.findall(r'class="marker kind-(\w+)"[^>]*data-id="([^"]+)"', html)
    assert markers and [m[1] for m in markers] == _ids(html)  # one marker per result, in order
    radius = re.search(r'class="radius" cx="[\d.]+" cy="[\d.]+" r="([\d.]+)"', html)
    assert radius and float(radius.group(1)) == 60.0  # map units are km
    assert 'class="me"' in html


def test_pages_do_not_overlap_and_link_each_other(client):
    first = client.get("/?text=Forschung&limit=3").get_data(as_text=True)
    assert len(_ids(first)) == 3 and 'rel="next"' in first and 'rel="prev"' not in first
    nxt = re.search(r'<a rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(nxt).get_data(as_text=True)
    assert set(_ids(first)).isdisjoint(_ids(second)) and 'rel="prev"' in second
    assert '<ol class="results" start="4">' in second


def test_partial_returns_only_the_result_section(client):
    part = client.get("/?text=Galvanik&kinds=company&partial=1").get_data(as_text=True)
    assert "<html" not in part and "<form" not in part and "Gesucht:" in part
    kinds = set(re.findall(r'<span class="kind kind-(\w+)">', part))
    assert kinds == {"company"}


def test_parsed_reading_becomes_editable_filters(client):
    html = client.get("/?text=Labor+im+Umkreis+von+25+km+um+Chemnitz").get_data(as_text=True)
    link = re.search(r'<p class="edit"><a href="([^"]+)"', html).group(1).replace("&amp;", "&")
    params = parse_qs(urlparse(link).query)
    assert params["near"] == ["Chemnitz"] and params["radius_km"] == ["25"]
    assert "Chemnitz" not in params["text"][0]
    edited = client.get(link).get_data(as_text=True)
    assert 'value="Chemnitz"' in edited and 'value="25"' in edited


def test_region_overview_pages_and_api(client):
    html = client.get("/regionen").get_data(as_text=True)
    assert html.count('<path class="kreis') == 13 and "Erzgebirgskreis" in html
    assert re.search(r'<a href="/regionen/erzgebirgskreis"', html)
    data = client.get("/api/regions/erzgebirgskreis").get_json()
    assert data["name"] == "Erzgebirgskreis" and set(data["counts"]) >= {"KMU", "Forschende"}
    assert data["counts"]["KMU"] >= 1 and data["themes"]
    assert sum(len(t["smes"]) for t in data["themes"]) == (
        data["counts"]["KMU"] + data["counts"]["Start-ups"])
    page = client.get("/regionen/erzgebirgskreis").get_data(as_text=True)
    assert "Was die Unternehmen hier brauchen" in page and "Inno Slam für Erzgebirgskreis" in page
    assert client.get("/regionen/atlantis").status_code == 404
    assert client.get("/api/regions/atlantis").get_json()["status"] == 404


def test_only_public_profiles_are_counted(client, indexed_store):
    every = [p for _, p in indexed_store.iter_profiles() if p.district == "Vogtlandkreis"]
    public = [p for p in every if p.visibility == "public"]
    assert len(public) < len(every)  # the fixture has an internal company there
    data = client.get("/api/regions/vogtlandkreis").get_json()
    assert sum(data["counts"].values()) == len(public)


def test_swap_link_replaces_the_speaker(client):
    url = "/slam?near=Chemnitz&radius_km=200&size=2"
    html = client.get(url).get_data(as_text=True)
    swap = re.search(r'<a class="swap" href="([^"]+)"', html)
    assert swap, "the planner offers alternatives to swap in"
    link = swap.group(1).replace("&amp;", "&")
    params = parse_qs(urlparse(link).query)
    out, pinned = params["exclude"][0], params["pin"][0].split(",")
    after = client.get(link).get_data(as_text=True)
    speakers = re.findall(r'<h2><a href="/profile/([^"]+)"', after)
    assert out not in speakers and set(pinned) == set(speakers)
    assert "vor dem Tausch:" in after


def test_profile_page_shows_public_fields_and_parent(client, indexed_store):
    researcher = next(p for _, p in indexed_store.iter_profiles(("researcher",))
                      if p.parent and p.career_stage and p.visibility == "public")
    parent = indexed_store.get(researcher.parent)
    html = client.get(f"/profile/{researcher.id}").get_data(as_text=True)
    assert f'href="/profile/{parent.id}"' in html and parent.name in html
    assert "Karrierestufe" in html and "mailto:" not in html and "Telefon" not in html


def test_planner_plans_the_whole_tour(client):
    html = client.get("/slam?region=__tour__&size=1").get_data(as_text=True)
    assert "Inno Slam Tour: 13 Stationen" in html
    rows = re.findall(r'<tr><th scope="row"><a href="/slam\?region=([^&"]+)', html)
    assert len(rows) == 13
    speakers = re.findall(r"<td>([^<]*)</td>\s*<td class=\"num\">", html)
    named = [name for cell in speakers for name in cell.split(", ") if name]
    assert named, "the fixture has researchers to invite"
    limit = client.application.config["MATCHER_SETTINGS"].slam_max_stops_per_person
    assert max(Counter(named).values()) <= limit


def test_edit_links_only_for_managers(client, indexed_store):
    from matcher.accounts import Accounts

    anonymous = client.get("/profile/t-co-01").get_data(as_text=True)
    assert "/profile/t-co-01/edit" not in anonymous and "/profile/new" not in anonymous
    Accounts(indexed_store).add("mara", "geheim-genug-123", "manager")
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    client.post("/login", data={"username": "mara", "password": "geheim-genug-123",
                                "csrf_token": token})
    page = client.get("/profile/t-co-01").get_data(as_text=True)
    assert 'href="/profile/t-co-01/edit"' in page and 'href="/profile/new"' in page
