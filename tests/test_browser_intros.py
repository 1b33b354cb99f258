"""The introductions workspace in a real browser (Debian's chromium via Playwright) against the
production server (waitress), restarted on the same data directory with the clock advanced."""

from __future__ import annotations

import email
import os
from contextlib import contextmanager
from email.policy import default as default_policy

import pytest

from matcher.accounts import Accounts
from tests.conftest import running_server as server_at
from tests.test_browser import ARTIFACTS, CHROMIUM, FLAGS

pytestmark = pytest.mark.browser
PW = "Glück-auf-2026"
CLIENT = "t-co-01"


@contextmanager
def running_server(data_dir, clock_offset_days: float = 0):
    """matcher-web on a free loopback port; the workspace clock runs ``clock_offset_days``
    ahead."""
    with server_at(data_dir, MATCHER_CLOCK_OFFSET_DAYS=str(clock_offset_days)) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} fehlt: apt-get install chromium (make test installiert es)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


def partner_cards(page):
    return page.locator("section[aria-labelledby=partner-h] li.card")


def partner_ids(page) -> list[str]:
    hrefs = page.locator("section[aria-labelledby=partner-h] li.card h2 a")
    return [h.split("/profile/")[1] for h in hrefs.evaluate_all("els => els.map(e => e.href)")]


def set_status(page, status: str, reason: str | None = None, outcome: str | None = None):
    page.get_by_label("Neuer Status").select_option(label=status)
    if reason:
        page.get_by_label("Grund (nur bei „abgelehnt“)").select_option(label=reason)
    if outcome:
        page.get_by_label("Ergebnis (nur bei „Ergebnis“)").select_option(label=outcome)
    page.get_by_role("button", name="Status speichern").click()
    page.wait_for_load_state()


def test_manager_shortlists_introduces_follows_up_and_declined_partner_is_gone(
        browser, indexed_store, data_dir, tmp_path):
    Accounts(indexed_store).add("anna", PW, "manager", display_name="Anna Krause",
                                email="anna.krause@example.org")
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    with running_server(data_dir) as url:
        # log in
        page.goto(url + "/")
        page.get_by_role("link", name="Anmelden").click()
        page.get_by_label("Benutzername").fill("anna")
        page.get_by_label("Passwort").fill(PW)
        page.get_by_role("button", name="Anmelden").click()
        assert page.locator("h1").inner_text() == "Mein Bereich"

        # a shortlist for the company, two partners from its result list
        page.goto(f"{url}/profile/{CLIENT}")
        page.get_by_role("button", name="Merkliste anlegen").click()
        before = partner_ids(page)
        assert len(before) >= 3
        names = []
        for i, note in ((0, "Kennt das Thema Verzug"), (1, "Alternative")):
            card = partner_cards(page).nth(i)
            names.append(card.locator("h2 a").inner_text())
            card.get_by_label("Notiz").fill(note)
            card.get_by_role("button", name="Auf die Merkliste").click()
            page.wait_for_load_state()
        page.get_by_role("link", name=f"Partner für {page.locator('h1').inner_text()}").click()
        assert page.locator("li.shortlist-item").count() == 2
        assert "Kennt das Thema Verzug" in page.content()

        # an intro draft for the first partner: edit, copy, download as .eml
        page.get_by_role("button", name=f"Vorstellung entwerfen: {names[0]}").click()
        intro_url = page.url
        body = page.get_by_label("Text")
        assert "Einverständnis" in body.input_value() and "Anna Krause" in body.input_value()
        body.fill(body.input_value() + "\nPS: Gern auch vor Ort in Olbernhau.")
        page.get_by_role("button", name="Entwurf speichern").click()
        assert "Entwurf gespeichert." in page.content()
        page.get_by_role("button", name="Text kopieren").click()
        assert page.evaluate("navigator.clipboard.readText()").startswith("Betreff: ")
        with page.expect_download() as info:
            page.get_by_role("link", name="Als .eml herunterladen").click()
        eml = tmp_path / "entwurf.eml"
        info.value.save_as(eml)
        msg = email.message_from_bytes(eml.read_bytes(), policy=default_policy)
        assert "Gern auch vor Ort in Olbernhau." in msg.get_content()
        assert msg["From"] == "Anna Krause <anna.krause@example.org>"
        set_status(page, "angefragt")
        assert page.locator("#status").inner_text() == "angefragt"

        # the second partner declines: "passt nicht"
        page.goto(url + "/shortlists")
        page.locator("ul.results li.card h2 a").first.click()
        page.get_by_role("button", name=f"Vorstellung entwerfen: {names[1]}").click()
        set_status(page, "abgelehnt", reason="passt nicht")
        assert page.locator("#status").inner_text() == "abgelehnt: passt nicht"
        page.goto(url + "/followups")
        assert "Nichts fällig" in page.content()

    # restart on the same data directory, the clock eight days ahead; the session survives
    with running_server(data_dir, clock_offset_days=8) as url:
        page.goto(url + "/followups")
        due = page.locator("#due li.card")
        assert due.count() == 1
        assert names[0] in due.first.inner_text()
        assert "Keine Antwort seit 8 Tagen" in due.first.inner_text()
        page.screenshot(path=str(ARTIFACTS / "nachfassen.png"), full_page=True)

        # the declined partner is gone from the company's matches, the asked one moved down
        page.goto(f"{url}/profile/{CLIENT}")
        after = partner_ids(page)
        assert before[1] not in after
        assert after[-1] == before[0]
        assert "Bereits vorgestellt: angefragt" in partner_cards(page).last.inner_text()
        page.get_by_label("nur neue Kontakte").check()
        page.get_by_role("button", name="Anwenden").click()
        assert before[0] not in partner_ids(page)

        # the rest of the way: angenommen → Treffen → Ergebnis
        page.goto(intro_url.replace(intro_url.split("/intros/")[0], url))
        set_status(page, "angenommen")
        set_status(page, "Treffen")
        set_status(page, "Ergebnis", outcome="Kooperation")
        assert page.locator("#status").inner_text() == "Ergebnis: Kooperation"
        steps = page.locator("#history tbody tr td:nth-child(4)").all_inner_texts()
        assert steps == ["vorgeschlagen", "angefragt", "angenommen", "Treffen", "Ergebnis"]
        page.screenshot(path=str(ARTIFACTS / "vorstellung.png"), full_page=True)
        page.goto(url + "/report")
        total = page.locator("#report tr.total td").all_inner_texts()
        assert total[2:6] == ["2", "1", "1", "0"] and total[8] == "1"  # 2 intros, 1 cooperation
        page.screenshot(path=str(ARTIFACTS / "bericht.png"), full_page=True)
    context.close()
