"""The workspace over HTTP: login, roles, CSRF, the JSON API and the manager's profile page."""

from __future__ import annotations

import email
import re
import stat
from email.policy import default as default_policy
from pathlib import Path

import pytest

from matcher.accounts import ROLES, Accounts
from matcher.audit import AuditLog
from matcher.store import Store
from webapp import create_app
from webapp.auth import CSRF_MESSAGE, SECRET_KEY_FILE

PW = "Glück-auf-2026"
SAFE = {"GET", "HEAD", "OPTIONS"}
TEMPLATES = Path(__file__).parent.parent / "webapp" / "templates"


def make_app(data_dir, **extra):
    return create_app({"data_dir": str(data_dir), "embedder": "hashing",
                       "sentence_embedder": "hashing", "TESTING": True, **extra})


@pytest.fixture
def app(indexed_store, data_dir):
    acc = Accounts(indexed_store)
    for name, role in (("anna", "manager"), ("ben", "manager"), ("olga", "organiser"),
                       ("adam", "admin")):
        acc.add(name, PW, role, display_name=name.title(), email=f"{name}@example.org")
    return make_app(data_dir)


def token(client) -> str:
    client.get("/login")
    with client.session_transaction() as s:
        return s["csrf"]


def login(client, username: str, password: str = PW):
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token(client)})


def client_as(app, username: str | None):
    c = app.test_client()
    if username:
        assert login(c, username).status_code == 302
    return c


def api(c, method: str, url: str, json=None):
    return c.open(url, method=method, json=json or {}, headers={"X-CSRF-Token": token(c)})


# -- login, session, secret key ---------------------------------------------------------
def test_login_logout_and_nav(app):
    c = app.test_client()
    assert "Anmelden" in c.get("/").get_data(as_text=True)
    resp = login(c, "anna")
    assert resp.status_code == 302 and resp.headers["Location"] == "/account"
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = c.get("/account").get_data(as_text=True)
    assert "Angemeldet als <strong>Anna</strong>" in page and "Abmelden" in page
    assert c.post("/logout", data={"csrf_token": token(c)}).status_code == 302
    assert c.get("/account").status_code == 302  # back to the login


def test_wrong_password_then_throttled(app):
    c = app.test_client()
    for _ in range(5):
        resp = login(c, "anna", "falsch-falsch")
        assert resp.status_code == 401
        assert "Benutzername oder Passwort ist falsch." in resp.get_data(as_text=True)
    resp = login(c, "anna")  # even the right password waits now
    assert resp.status_code == 429 and "Zu viele" in resp.get_data(as_text=True)
    assert login(c, "ben").status_code == 302  # another account is not blocked


@pytest.mark.parametrize("target,expected", [("/shortlists", "/shortlists"),
                                             ("https://evil.example/", "/account"),
                                             ("//evil.example/x", "/account")])
def test_login_redirects_only_to_local_paths(app, target, expected):
    c = app.test_client()
    resp = c.post("/login", data={"username": "anna", "password": PW, "next": target,
                                  "csrf_token": token(c)})
    assert resp.headers["Location"] == expected


def test_anonymous_page_redirects_to_login_with_next(app):
    resp = app.test_client().get("/followups")
    assert resp.status_code == 302 and resp.headers["Location"] == "/login?next=/followups"


def test_secret_key_file_and_session_survive_a_restart(app, data_dir):
    path = data_dir / SECRET_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    c = client_as(app, "anna")
    cookie = c.get_cookie("session")
    again = make_app(data_dir).test_client()  # a new process on the same data dir
    again.set_cookie("session", cookie.value)
    assert again.get("/account").status_code == 200


def test_password_change_ends_other_sessions(app):
    first, second = client_as(app, "anna"), client_as(app, "anna")
    resp = first.post("/account/password", data={
        "old_password": PW, "new_password": "Neues-Passwort-42",
        "repeat_password": "Neues-Passwort-42", "csrf_token": token(first)})
    assert "Passwort geändert." in resp.get_data(as_text=True)
    assert first.get("/account").status_code == 200
    assert second.get("/account").status_code == 302
    resp = first.post("/account/password", data={
        "old_password": "falsch-falsch", "new_password": "x" * 12, "repeat_password": "x" * 12,
        "csrf_token": token(first)})
    assert resp.status_code == 400 and "Bisheriges Passwort ist falsch." in resp.get_data(
        as_text=True)


def test_logged_in_users_see_internal_profiles(app):
    assert app.test_client().get("/api/profiles/t-co-08").status_code == 404
    assert client_as(app, "olga").get("/api/profiles/t-co-08").status_code == 200


# -- every write route: anonymous, wrong role, missing CSRF ------------------------------
def _write_routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - SAFE):
            yield rule, method


def _url(app, rule, values):
    missing = rule.arguments - values.keys()
    assert not missing, f"{rule.rule}: Testwert für {missing} in ARG_VALUES ergänzen"
    return app.url_map.bind("localhost").build(rule.endpoint, {a: values[a]
                                                               for a in rule.arguments})


def test_every_write_route_refuses_anonymous_wrong_role_and_missing_csrf(app):
    anna = client_as(app, "anna")
    sl = api(anna, "POST", "/api/shortlists", {"name": "L", "client_id": "t-co-01"}).get_json()
    api(anna, "POST", f"/api/shortlists/{sl['pk']}/items", {"profile_id": "t-ch-01"})
    intro = api(anna, "POST", "/api/intros", {"client_id": "t-co-01",
                                              "partner_id": "t-ch-01"}).get_json()
    values = {"pk": intro["pk"], "profile_id": "t-ch-01"}
    assert sl["pk"] == intro["pk"] == 1  # one value fits both kinds of pk
    problems, checked = [], 0
    for rule, method in _write_routes(app):
        checked += 1
        view = app.view_functions[rule.endpoint]
        url, is_api = _url(app, rule, values), rule.rule.startswith("/api")

        def send(c, with_token=True, bad_token=False, method=method, url=url, is_api=is_api):
            tok = "falsch" if bad_token else token(c)
            if is_api:
                return c.open(url, method=method, json={},
                              headers={"X-CSRF-Token": tok} if with_token else {})
            return c.open(url, method=method, data={"csrf_token": tok} if with_token else {})

        where = f"{method} {rule.rule}"
        for bad in (False, True):  # no token, wrong token: 400 before anything else
            resp = send(client_as(app, "adam"), with_token=bad, bad_token=bad)
            if resp.status_code != 400 or CSRF_MESSAGE not in resp.get_data(as_text=True):
                problems.append(f"{where}: ohne gültiges CSRF-Token {resp.status_code}")
        if getattr(view, "public_form", False):
            continue
        roles = getattr(view, "required_roles", None)
        if roles is None:
            problems.append(f"{where}: schreibt ohne login_required")
            continue
        resp = send(client_as(app, None))
        ok = (resp.status_code == 401 and resp.get_json()["status"] == 401 if is_api else
              resp.status_code == 302 and "/login" in resp.headers["Location"])
        if not ok:
            problems.append(f"{where}: anonym {resp.status_code}")
        for other in (r for r in ROLES if roles and r not in roles and r != "admin"):
            name = {"manager": "anna", "organiser": "olga"}[other]
            resp = send(client_as(app, name))
            if resp.status_code != 403:
                problems.append(f"{where}: Rolle {other} bekam {resp.status_code}")
    assert checked >= 17
    assert problems == []


def test_other_managers_work_is_forbidden(app):
    anna, ben = client_as(app, "anna"), client_as(app, "ben")
    intro = api(anna, "POST", "/api/intros", {"client_id": "t-co-01",
                                              "partner_id": "t-ch-01"}).get_json()
    resp = api(ben, "POST", f"/api/intros/{intro['pk']}/status", {"status": "angefragt"})
    assert resp.status_code == 403 and resp.get_json()["error"].endswith("jemand anderem.")
    assert ben.get(f"/intros/{intro['pk']}").status_code == 403
    assert client_as(app, "adam").get(f"/api/intros/{intro['pk']}").status_code == 200


# -- the API flow -------------------------------------------------------------------------
def test_api_flow_shortlist_intro_status_followups_report(app, data_dir):
    anna = client_as(app, "anna")
    resp = api(anna, "POST", "/api/shortlists", {"name": "Laser", "client_id": "t-co-01"})
    assert resp.status_code == 201
    pk = resp.get_json()["pk"]
    for pid, note in (("t-ch-01", "Fügetechnik"), ("t-su-01", "")):
        api(anna, "POST", f"/api/shortlists/{pk}/items", {"profile_id": pid, "note": note})
    sl = anna.get(f"/api/shortlists/{pk}").get_json()
    assert [i["profile_id"] for i in sl["items"]] == ["t-ch-01", "t-su-01"]
    resp = api(anna, "POST", "/api/intros", {"client_id": "t-co-01", "partner_id": "t-ch-01"})
    intro = resp.get_json()
    assert resp.status_code == 201 and intro["status"] == "vorgeschlagen"
    assert "„" in intro["body"] and "Entfernung: etwa" in intro["body"]  # from the explanation
    dup = api(anna, "POST", "/api/intros", {"client_id": "t-ch-01", "partner_id": "t-co-01"})
    assert dup.status_code == 409 and dup.get_json()["ok"] is False
    resp = api(anna, "PUT", f"/api/intros/{intro['pk']}/draft",
               {"subject": "Betreff", "body": "Hallo Chemnitz"})
    assert resp.get_json()["body"] == "Hallo Chemnitz"
    bad = api(anna, "POST", f"/api/intros/{intro['pk']}/status", {"status": "treffen"})
    assert bad.status_code == 409 and "möglich: angefragt, abgelehnt" in bad.get_json()["error"]
    ok = api(anna, "POST", f"/api/intros/{intro['pk']}/status", {"status": "angefragt"})
    assert ok.get_json()["status"] == "angefragt"
    assert anna.get("/api/intros/followups").get_json() == []
    later = client_as(make_app(data_dir, clock_offset_days=8), "anna")
    due = later.get("/api/intros/followups").get_json()
    assert [(d["intro"]["pk"], d["level"]) for d in due] == [(intro["pk"], 7)]
    eml = anna.get(f"/intros/{intro['pk']}/entwurf.eml")
    assert eml.headers["Content-Disposition"].endswith('.eml"')
    msg = email.message_from_bytes(eml.data, policy=default_policy)
    assert msg["Subject"] == "Betreff" and msg["X-Unsent"] == "1"
    assert msg["From"] == "Anna <anna@example.org>" and msg["To"] is None  # chair: no e-mail
    assert "Hallo Chemnitz" in msg.get_content()
    report = anna.get("/api/intros/report").get_json()
    assert report[-1]["introductions"] == 1 and report[-1]["requested"] == 1
    csv_resp = anna.get("/report.csv")
    assert csv_resp.mimetype == "text/csv" and "Annahmequote" in csv_resp.get_data(as_text=True)
    with Store(data_dir) as s:
        log = AuditLog(s).entries(f"intro:{intro['pk']}")
    assert [e["action"] for e in log] == ["intro.status", "intro.draft", "intro.create"]


def test_api_rejects_bad_input_with_german_messages(app):
    anna = client_as(app, "anna")
    resp = api(anna, "POST", "/api/shortlists", {"name": "", "client_id": "t-co-01"})
    assert resp.status_code == 400 and resp.get_json()["error"].startswith("Name der Merkliste")
    resp = api(anna, "POST", "/api/shortlists", {"name": "x", "client_id": "gibt-es-nicht"})
    assert resp.status_code == 404
    resp = api(anna, "POST", "/api/intros/999/status", {"status": "angefragt"})
    assert resp.status_code == 404 and "Nr. 999" in resp.get_json()["error"]


# -- the profile page for managers ------------------------------------------------------
def _partner_ids(html: str) -> list[str]:
    section = html.split('id="partner-h"', 1)[1]
    return re.findall(r'<h2><a href="/profile/([^"]+)"', section)


def test_declined_partner_leaves_the_clients_matches_and_only_new_filter(app):
    anna = client_as(app, "anna")
    before = _partner_ids(anna.get("/profile/t-co-01").get_data(as_text=True))
    first, second = before[0], before[1]
    a = api(anna, "POST", "/api/intros", {"client_id": "t-co-01", "partner_id": first})
    api(anna, "POST", f"/api/intros/{a.get_json()['pk']}/status",
        {"status": "abgelehnt", "reason": "passt_nicht"})
    b = api(anna, "POST", "/api/intros", {"client_id": "t-co-01", "partner_id": second})
    api(anna, "POST", f"/api/intros/{b.get_json()['pk']}/status", {"status": "angefragt"})
    page = anna.get("/profile/t-co-01").get_data(as_text=True)
    after = _partner_ids(page)
    assert first not in after
    assert after[-1] == second and "Bereits vorgestellt: angefragt" in page  # down-ranked
    only_new = _partner_ids(anna.get("/profile/t-co-01?nur_neue=1").get_data(as_text=True))
    assert first not in only_new and second not in only_new
    public = _partner_ids(app.test_client().get("/profile/t-co-01").get_data(as_text=True))
    assert public[:2] == [first, second]  # the public search is not personalised


def test_profile_forms_shortlist_from_the_result_list(app):
    anna = client_as(app, "anna")
    page = anna.get("/profile/t-co-01").get_data(as_text=True)
    assert "Merkliste anlegen" in page and "Auf die Merkliste" not in page
    resp = anna.post("/shortlists", data={"name": "Partner", "client_id": "t-co-01",
                                          "next": "/profile/t-co-01", "csrf_token": token(anna)})
    assert resp.headers["Location"] == "/profile/t-co-01"
    page = anna.get("/profile/t-co-01").get_data(as_text=True)
    assert page.count("Auf die Merkliste") == len(_partner_ids(page))
    partner = _partner_ids(page)[0]
    resp = anna.post("/shortlists/eintrag", data={
        "shortlist": "1", "profile_id": partner, "note": "klingt gut",
        "next": "/profile/t-co-01", "csrf_token": token(anna)})
    assert resp.status_code == 302
    assert "klingt gut" in anna.get("/shortlists/1").get_data(as_text=True)
    assert "Merkliste" not in client_as(app, "olga").get("/profile/t-co-01").get_data(
        as_text=True)


def test_templates_have_no_inline_scripts_or_handlers():
    for path in TEMPLATES.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag, f"{path.name}: inline <script>"
        assert not re.search(r"\son[a-z]+\s*=", text), f"{path.name}: inline event handler"


def test_profile_matches_api_applies_the_feedback_for_managers(app):
    anna = client_as(app, "anna")
    before = [r["id"] for r in anna.get("/api/profiles/t-co-01/matches").get_json()["results"]]
    a = api(anna, "POST", "/api/intros", {"client_id": "t-co-01", "partner_id": before[0]})
    api(anna, "POST", f"/api/intros/{a.get_json()['pk']}/status",
        {"status": "abgelehnt", "reason": "kennen_uns_schon"})
    b = api(anna, "POST", "/api/intros", {"client_id": "t-co-01", "partner_id": before[1]})
    results = anna.get("/api/profiles/t-co-01/matches").get_json()["results"]
    assert before[0] not in [r["id"] for r in results]
    assert results[-1]["id"] == before[1] and results[-1]["introduction"] == "vorgeschlagen"
    only_new = anna.get("/api/profiles/t-co-01/matches?nur_neue=1").get_json()["results"]
    assert not {before[0], before[1]} & {r["id"] for r in only_new}
    public = app.test_client().get("/api/profiles/t-co-01/matches").get_json()["results"]
    assert [r["id"] for r in public][:2] == before[:2] and b.status_code == 201


def test_search_results_offer_the_managers_shortlists(app):
    anna = client_as(app, "anna")
    assert "Auf die Merkliste" not in anna.get("/?text=Galvanik").get_data(as_text=True)
    api(anna, "POST", "/api/shortlists", {"name": "Beschichtung", "client_id": "t-co-07"})
    page = anna.get("/?text=Galvanik").get_data(as_text=True)
    assert "Auf die Merkliste" in page and "Beschichtung (für Oelsnitzer Galvanik GmbH)" in page
    assert "Auf die Merkliste" not in app.test_client().get("/?text=Galvanik").get_data(
        as_text=True)
