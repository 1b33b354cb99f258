"""Script injection in profile fields comes out escaped on every HTML page.

Every test profile gets injection strings appended to name, description, offers, needs,
institution, keywords and contact fields; then the search results with their explanations, the
keyword fallback, profile pages (anonymous and logged in), the Inno Slam planner, the printable
programme and every other HTML page are checked: the strings appear escaped, never as markup, and
template syntax in data is never evaluated.
"""

from __future__ import annotations

import json
import re

import pytest

from matcher.accounts import Accounts
from matcher.indexer import build_index
from matcher.ingest import ingest_files
from matcher.search import Matcher
from matcher.slam import SlamOptions, SlamPlanner
from matcher.slam_export import lineup_html
from tests.conftest import PROFILES
from tests.test_security import PASSWORD, get_rules, login, path_for
from tests.test_slam import EXTRA, REGIONS
from webapp import create_app

SCRIPT = "<script>alert(1)</script>"
IMG = "\"><img src=x onerror=alert(1)>"
TEMPLATE = "{{7*7}}"
RAW = ("<script>alert(", "<script>", "<img src=x", "onerror=alert(1)>")
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
SLAM = {"regions": REGIONS, "slam_covered_at": 0.3, "slam_floor": 0.1}


def poisoned(rec: dict) -> dict:
    out = dict(rec)
    out["name"] = f"{rec['name']} {SCRIPT}"
    out["description"] = f"{rec['description']} {IMG} Marke {TEMPLATE}"
    for field in ("offers", "needs", "institution"):
        if rec.get(field):
            out[field] = f"{rec[field]} {SCRIPT} {TEMPLATE}"
    out["keywords"] = [*rec.get("keywords", []), SCRIPT]
    if rec["kind"] in ("company", "startup"):
        out["email"] = "<script>alert(1)</script>@boese.example"
        out["phone"] = f"0371 {IMG}"
        out["street"] = f"Hauptstraße 1 {SCRIPT}"
        out["website"] = "https://boese.example/\"><script>alert(1)</script>"
    return out


@pytest.fixture
def data(store, gazetteer, settings, tmp_path, data_dir):
    records = [json.loads(line) for line in PROFILES.read_text("utf-8").splitlines() if line]
    path = tmp_path / "boese.jsonl"
    path.write_text("".join(json.dumps(poisoned(r), ensure_ascii=False) + "\n"
                            for r in [*records, *EXTRA]), encoding="utf-8")
    ingest_files(store, [path], gazetteer)
    build_index(store, settings)
    Accounts(store).add("admin", PASSWORD, "admin")
    return store


@pytest.fixture
def client(data, data_dir):
    app = create_app({"data_dir": str(data_dir), "embedder": "hashing",
                      "sentence_embedder": "hashing", "TESTING": True, **SLAM})
    return app.test_client()


def assert_escaped(body: str, where: str, rendered: bool = True) -> None:
    for raw in RAW:
        assert raw not in body, f"{where}: unescaped {raw!r}"
    assert "Marke 49" not in body, f"{where}: template syntax in data was evaluated"
    if rendered:
        assert ESCAPED_SCRIPT in body, f"{where}: the poisoned text is not on the page"


def page(client, url: str) -> str:
    resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    assert resp.mimetype == "text/html"
    return resp.get_data(as_text=True)


def test_search_results_and_explanations(client):
    body = page(client, "/?text=Laserstrahlschweißen+dünner+Edelstahlbleche&near=Olbernhau")
    assert "Warum dieser Vorschlag?" in body
    assert_escaped(body, "Suche")
    assert "Marke {{7*7}}" in body or "{{7*7}}" in body


def test_profile_pages_anonymous_and_logged_in(client):
    for pid in ("t-co-01", "t-rs-01", "t-ch-02", "t-tgz-01"):
        assert_escaped(page(client, f"/profile/{pid}"), f"/profile/{pid} anonym")
    login(client)
    body = page(client, "/profile/t-co-01")
    assert "boese.example" in body  # contact fields are shown now, escaped
    assert_escaped(body, "/profile/t-co-01 angemeldet")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;@boese.example" in body


def test_slam_planner_and_printable_programme(client, data, settings, gazetteer):
    body = page(client, "/slam?region=Ganz+Sachsen&size=4")
    assert "Line-up" in body
    assert_escaped(body, "/slam")
    export = page(client, "/api/slam/export.html?region=Ganz+Sachsen&size=4")
    assert_escaped(export, "Druckprogramm")
    planner = SlamPlanner(Matcher(data, settings.replace(**SLAM), gazetteer))
    lineup = planner.plan("Ganz Sachsen", SlamOptions(size=4))
    assert lineup.speakers
    assert_escaped(lineup_html(lineup), "lineup_html")


def test_keyword_fallback_while_the_index_is_stale(client, data, gazetteer, tmp_path):
    extra = tmp_path / "neu.jsonl"
    extra.write_text(json.dumps(poisoned({
        "id": "t-neu", "kind": "company", "name": "Galvanik Neu GmbH", "city": "Zwickau",
        "description": "Galvanik und Beschichtung."})) + "\n", encoding="utf-8")
    ingest_files(data, [extra], gazetteer)
    body = page(client, "/?text=Galvanik")
    assert "matcher" in body and "index" in body  # the stale-index notice
    assert_escaped(body, "Fallback")


@pytest.mark.parametrize("logged_in", [False, True], ids=["anonym", "angemeldet"])
def test_every_html_page(client, logged_in):
    if logged_in:
        login(client)
    seen = 0
    for rule in get_rules(client.application):
        if rule.endpoint == "static":
            continue
        for query in ("", "?text=Galvanik&region=Ganz+Sachsen&near=Freiberg&size=4"):
            resp = client.get(path_for(rule, {}) + query)
            if resp.mimetype != "text/html":
                continue
            seen += 1
            assert_escaped(resp.get_data(as_text=True), f"{rule.rule}{query}", rendered=False)
    assert seen >= 12


def test_templates_do_not_disable_escaping():
    from tests.test_security import WEBAPP

    for path in (WEBAPP / "templates").glob("*.html"):
        text = path.read_text("utf-8")
        assert not re.search(r"\|\s*safe\b|autoescape\s+false|Markup\(", text), path.name
