"""The UI in a real browser: Debian's chromium driven by Playwright against the real server."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from tests.conftest import ROOT, running_server

pytestmark = pytest.mark.browser
CHROMIUM = os.environ.get("MATCHER_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} fehlt: apt-get install chromium (make test installiert es)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def server(indexed_store, data_dir):
    """The production server (waitress via matcher-web) on a free loopback port."""
    with running_server(data_dir) as url:
        yield url


def test_search_explanation_profile(browser, server):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 420, "height": 900})  # phone-sized
    page.goto(server + "/")
    page.get_by_label("Wir suchen jemanden, der …").fill("Chrom(VI)-freie Hartverchromung")
    page.get_by_label("Ort oder PLZ").fill("Freiberg")
    page.get_by_role("button", name="Suchen").click()
    page.wait_for_selector("ol.results li.card")
    assert "Gesucht:" in page.locator(".interpretation").inner_text()
    # the map shows the 13 Kreise, one marker per result and the searcher's place
    assert page.locator("svg.saxony path.kreis").count() == 13
    markers = page.locator("svg.saxony circle.marker")
    assert markers.count() == page.locator("ol.results li.card").count()
    assert page.locator("svg.saxony circle.me").count() == 1
    # a filter changes the results without loading a new page
    page.evaluate("window.__samePage = true")
    page.get_by_label("Forschende").check()
    for _ in range(600):  # the address changes once the new results are in place
        if "kinds=researcher" in page.evaluate("() => document.location.search"):
            break
        page.wait_for_timeout(100)
    assert "kinds=researcher" in page.evaluate("() => document.location.search")
    page.wait_for_selector("#results:not([aria-busy])")
    assert page.evaluate("window.__samePage === true")
    kinds = page.locator("ol.results li.card span.kind").all_inner_texts()
    assert kinds and set(kinds) == {"Forschende"}
    page.locator("details summary").first.click()
    assert page.locator("details[open] p").first.inner_text().strip()
    page.screenshot(path=str(ARTIFACTS / "suche.png"), full_page=True)
    page.locator("ol.results li.card h2 a").first.click()
    page.wait_for_selector("h2#partner-h")
    assert "Passende Partner" in page.content()
    page.screenshot(path=str(ARTIFACTS / "profil.png"), full_page=True)


def test_printable_programme_renders(browser, indexed_store, settings, gazetteer, tmp_path):
    from matcher.search import Matcher
    from matcher.slam import SlamOptions, SlamPlanner
    from matcher.slam_export import lineup_html

    s = settings.replace(regions={"Ganz Sachsen": {"center": "Chemnitz", "radius_km": 250}},
                         slam_covered_at=0.3, slam_floor=0.1)
    lineup = SlamPlanner(Matcher(indexed_store, s, gazetteer)).plan(
        "Ganz Sachsen", SlamOptions(size=3))
    path = tmp_path / "programm.html"
    path.write_text(lineup_html(lineup, dt.date(2027, 3, 18)), encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page()
    page.goto(path.as_uri())
    assert page.locator("h1").inner_text() == "Inno Slam Ganz Sachsen"
    assert page.locator("ol > li").count() == len(lineup.speakers)
    page.screenshot(path=str(ARTIFACTS / "programm.png"), full_page=True)


def test_plan_inno_slam_and_download_ics(browser, server, tmp_path):
    page = browser.new_page()
    page.goto(server + "/")
    page.get_by_role("link", name="Inno Slam planen").click()
    page.get_by_label("Region").select_option("Erzgebirgskreis")
    page.get_by_label("Vortragende").fill("2")
    page.get_by_label("Datum").fill("2027-03-18")
    page.get_by_role("button", name="Line-up planen").click()
    page.wait_for_selector("#lineup-h")
    assert "Inno Slam Erzgebirgskreis" in page.locator("#lineup-h").inner_text()
    assert page.locator("ol.results li.card").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "slam.png"), full_page=True)
    with page.expect_download() as info:
        page.locator("#ics").click()
    target = tmp_path / "slam.ics"
    info.value.save_as(target)
    from icalendar import Calendar

    event = next(iter(Calendar.from_ical(target.read_bytes()).walk("VEVENT")))
    assert str(event["summary"]) == "Inno Slam Erzgebirgskreis"


def test_region_overview_to_planner_swap(browser, server):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(server + "/")
    page.get_by_role("link", name="Regionen").click()
    assert page.locator("svg.saxony path.kreis").count() == 13
    page.screenshot(path=str(ARTIFACTS / "regionen.png"), full_page=True)
    page.get_by_role("link", name="Erzgebirgskreis", exact=True).first.click()
    page.wait_for_selector("h1")
    assert page.locator("h1").inner_text() == "Erzgebirgskreis"
    assert page.locator("svg.saxony path.kreis.highlight").count() == 1
    page.screenshot(path=str(ARTIFACTS / "region.png"), full_page=True)
    page.get_by_role("link", name="Inno Slam für Erzgebirgskreis planen").click()
    page.wait_for_selector("#lineup-h")
    page.get_by_label("Vortragende").fill("1")  # leaves the fixture's others as alternatives
    page.get_by_role("button", name="Line-up planen").click()
    page.wait_for_selector("details.alternatives summary")
    before = page.locator("ol.results li.card h2").all_inner_texts()
    page.locator("details.alternatives summary").first.click()
    page.locator("a.swap").first.click()
    page.wait_for_selector("#lineup-h")
    after = page.locator("ol.results li.card h2").all_inner_texts()
    assert after != before and "vor dem Tausch" in page.locator(".interpretation").inner_text()
    page.screenshot(path=str(ARTIFACTS / "slam-tausch.png"), full_page=True)
