"""Profile writes over HTTP: API tokens, manager sessions with CSRF, forms, bad input."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.accounts import Accounts
from matcher.tokens import Tokens
from webapp import create_app

PW = "Glück-auf-2026"
NEW = {"id": "t-co-neu", "kind": "company", "name": "Zwönitzer Federnwerk GmbH",
       "city": "Zwönitz", "description": "Technische Federn und Biegeteile aus Draht.",
       "needs": "Hilfe bei der Wasserstoffversprödung hochfester Federstähle.",
       "email": "kontakt@federnwerk.example"}


@pytest.fixture
def app(indexed_store, data_dir):
    acc = Accounts(indexed_store)
    acc.add("anna", PW, "manager")
    acc.add("olga", PW, "organiser")
    return create_app({"data_dir": str(data_dir), "embedder": "hashing",
                       "sentence_embedder": "hashing", "TESTING": True})


@pytest.fixture
def tokens(indexed_store) -> Tokens:
    return Tokens(indexed_store)


@pytest.fixture
def bearer(tokens) -> dict[str, str]:
    secret, _ = tokens.create("CRM-Abgleich", ["profiles:write"])
    return {"Authorization": f"Bearer {secret}"}


def csrf(client) -> str:
    client.get("/login")
    with client.session_transaction() as s:
        return s["csrf"]


def logged_in(app, username: str):
    c = app.test_client()
    resp = c.post("/login", data={"username": username, "password": PW, "csrf_token": csrf(c)})
    assert resp.status_code == 302
    return c


def search_ids(client, text: str) -> list[str]:
    return [r["id"] for r in client.get("/api/match", query_string={"text": text,
                                                                     "limit": 50}).get_json()[
        "results"]]


def test_token_create_update_delete_round_trip(app, bearer):
    c = app.test_client()
    resp = c.post("/api/profiles", json=NEW, headers=bearer)
    assert resp.status_code == 201, resp.get_json()
    assert resp.headers["Location"].endswith("/api/profiles/t-co-neu")
    assert resp.get_json()["profile"]["district"] == "Erzgebirgskreis"
    assert "t-co-neu" in search_ids(c, "Federnwerk Draht Biegeteile")
    resp = c.patch("/api/profiles/t-co-neu", json={"name": "Zwönitzer Federn AG"}, headers=bearer)
    assert resp.status_code == 200 and resp.get_json()["profile"]["name"] == "Zwönitzer Federn AG"
    assert c.get("/api/profiles/t-co-neu").get_json()["name"] == "Zwönitzer Federn AG"
    resp = c.put("/api/profiles/t-co-neu", json={**NEW, "visibility": "hidden"}, headers=bearer)
    assert resp.status_code == 200
    assert "t-co-neu" not in search_ids(c, "Federnwerk Draht Biegeteile")
    resp = c.delete("/api/profiles/t-co-neu", headers=bearer)
    assert resp.get_json() == {"ok": True, "removed": ["t-co-neu"]}
    assert c.get("/api/profiles/t-co-neu").status_code == 404


@pytest.mark.parametrize("header, status", [
    (None, 400), ("Basic YW5uYTp4", 400),  # no token and no session: the CSRF check answers
    ("Bearer mt_falsch", 401), ("Bearer kein-token", 401), ("Bearer " + "mt_" * 100, 401)])
def test_write_without_valid_token_is_refused(app, header, status):
    headers = {"Authorization": header} if header else {}
    resp = app.test_client().post("/api/profiles", json=NEW, headers=headers)
    assert resp.status_code == status
    assert set(resp.get_json()) == {"ok", "error", "status"}


def test_scope_revocation_and_expiry(app, tokens):
    c = app.test_client()
    reader, _ = tokens.create("nur lesen", ["profiles:read-internal"])
    resp = c.post("/api/profiles", json=NEW, headers={"Authorization": f"Bearer {reader}"})
    assert resp.status_code == 403 and "profiles:write" in resp.get_json()["error"]
    secret, info = tokens.create("bald weg", ["profiles:write"], expires_in_days=1)
    assert info.last_used_at is None
    headers = {"Authorization": f"Bearer {secret}"}
    assert c.patch("/api/profiles/t-co-01", json={"employees": 40}, headers=headers).status_code \
        == 200
    assert tokens.get(info.id).last_used_at is not None
    tokens.revoke(info.id)
    resp = c.patch("/api/profiles/t-co-01", json={"employees": 41}, headers=headers)
    assert resp.status_code == 401 and "widerrufen" in resp.get_json()["error"]


def test_tokens_are_stored_hashed(tokens, indexed_store):
    secret, info = tokens.create("CRM", ["profiles:write"])
    raw = indexed_store.path.read_bytes() + indexed_store.path.with_name(
        indexed_store.path.name + "-wal").read_bytes()
    assert secret.encode() not in raw
    assert info.prefix == secret[:10] and tokens.verify(secret, "profiles:write").id == info.id


@pytest.mark.parametrize("body, status, words", [
    ({**NEW, "kind": "raumschiff"}, 400, ["kind:", "erlaubt"]),
    ({**NEW, "city": "Atlantis"}, 400, ["city:"]),
    ({**NEW, "founded": "gestern"}, 400, ["founded:"]),
    ({**NEW, "farbe": "blau"}, 400, ["farbe:", "unbekanntes Feld"]),
    ({**NEW, "id": "t-co-01"}, 409, ["gibt es schon"]),
    ([1, 2, 3], 400, ["JSON-Objekt"]),
    ({**NEW, "description": "x" * 300_000}, 413, ["zu groß"]),
])
def test_bad_bodies_get_clear_messages(app, bearer, body, status, words):
    resp = app.test_client().post("/api/profiles", json=body, headers=bearer)
    assert resp.status_code == status
    data = resp.get_json()
    assert set(data) == {"ok", "error", "status"} and data["status"] == status
    for word in words:
        assert word in data["error"]


def test_malformed_json_is_400(app, bearer):
    resp = app.test_client().post("/api/profiles", data="{kaputt",
                                  headers={**bearer, "Content-Type": "application/json"})
    assert resp.status_code == 400 and "gültiges JSON" in resp.get_json()["error"]


def test_unknown_profile_is_404(app, bearer):
    c = app.test_client()
    assert c.patch("/api/profiles/gibt-es-nicht", json={"name": "x"},
                   headers=bearer).status_code == 404
    assert c.delete("/api/profiles/gibt-es-nicht", headers=bearer).status_code == 404


def test_manager_session_needs_csrf_and_role(app):
    anna = logged_in(app, "anna")
    assert anna.post("/api/profiles", json=NEW).status_code == 400  # no CSRF token
    resp = anna.post("/api/profiles", json=NEW, headers={"X-CSRF-Token": csrf(anna)})
    assert resp.status_code == 201
    olga = logged_in(app, "olga")
    resp = olga.patch("/api/profiles/t-co-neu", json={"name": "x"},
                      headers={"X-CSRF-Token": csrf(olga)})
    assert resp.status_code == 403


def test_forms_create_edit_delete(app):
    anna = logged_in(app, "anna")
    page = anna.get("/profile/new")
    assert page.status_code == 200 and "Neues Profil" in page.get_data(as_text=True)
    form = {**{k: v for k, v in NEW.items()}, "visibility": "public", "csrf_token": csrf(anna)}
    bad = anna.post("/profile/new", data={**form, "city": "Atlantis"})
    assert bad.status_code == 400 and "Atlantis" in bad.get_data(as_text=True)
    resp = anna.post("/profile/new", data=form)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/profile/t-co-neu")
    edit = anna.get("/profile/t-co-neu/edit").get_data(as_text=True)
    assert "Zwönitzer Federnwerk GmbH" in edit and "Profil löschen" in edit
    resp = anna.post("/profile/t-co-neu/edit", data={**form, "city": "Freiberg",
                                                     "email": ""})
    assert resp.status_code == 302
    data = anna.get("/api/profiles/t-co-neu").get_json()
    assert data["city"] == "Freiberg" and "email" not in data
    assert anna.post("/profile/t-co-neu/delete",
                     data={"csrf_token": csrf(anna)}).status_code == 400  # not confirmed
    resp = anna.post("/profile/t-co-neu/delete", data={"confirm": "ja", "csrf_token": csrf(anna)})
    assert resp.status_code == 200 and "gelöscht" in resp.get_data(as_text=True)
    assert anna.get("/api/profiles/t-co-neu").status_code == 404


def test_forms_need_a_manager(app):
    assert app.test_client().get("/profile/new").status_code == 302
    assert logged_in(app, "olga").get("/profile/new").status_code == 403


def test_read_internal_scope_shows_internal_profiles_and_contacts(app, tokens):
    c = app.test_client()
    reader, _ = tokens.create("Intranet", ["profiles:read-internal"])
    writer, _ = tokens.create("CRM", ["profiles:write"])
    for headers, visible in (({}, False), ({"Authorization": f"Bearer {writer}"}, False),
                             ({"Authorization": "Bearer mt_falsch"}, False),
                             ({"Authorization": f"Bearer {reader}"}, True)):
        assert (c.get("/api/profiles/t-co-08", headers=headers).status_code == 200) is visible
        data = c.get("/api/profiles/t-co-01", headers=headers).get_json()
        assert ("email" in data) is visible


FIELD_NAMES = ["id", "kind", "name", "description", "city", "lat", "lon", "offers", "needs",
               "keywords", "parent", "visibility", "employees", "founded", "email", "website",
               "career_stage", "institution", "x-unbekannt"]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=False)
    | st.text(max_size=40) | st.sampled_from(["company", "researcher", "Freiberg", "t-ch-01",
                                              "hidden", "1990", "51.0", "Chemnitz"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3), max_leaves=6)
BODIES = st.one_of(st.dictionaries(st.sampled_from(FIELD_NAMES), JSON_VALUES, max_size=10),
                   JSON_VALUES)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(body=BODIES, method=st.sampled_from(["POST", "PUT", "PATCH"]))
def test_fuzzed_authenticated_writes_never_fail_or_half_write(app, bearer, body, method):
    c = app.test_client()
    before = c.get("/api/stats").get_json()["total"]
    url = "/api/profiles" if method == "POST" else "/api/profiles/t-co-02"
    resp = c.open(url, method=method, json=body, headers=bearer)
    assert resp.status_code in (200, 201, 400, 404, 409, 413), resp.get_data(as_text=True)
    data = resp.get_json()
    if resp.status_code >= 400:
        assert set(data) == {"ok", "error", "status"} and data["error"]
        assert c.get("/api/stats").get_json()["total"] == before
