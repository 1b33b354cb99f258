"""Right to erasure: after deleting a profile, its marker is in no output and no file."""

from __future__ import annotations

import json

import pytest

from matcher.accounts import Accounts
from matcher.cli import cli
from matcher.indexer import text_hash
from matcher.store import Store
from matcher.text import TEXT_VIEWS
from matcher.tokens import Tokens
from tests.walk import found, walk
from webapp import create_app

MARK = "Quarkzwetschgen4711"  # ASCII: the full-text index stores it without diacritics
PW = "Glück-auf-2026"
PID = "t-erase-1"
PROFILE = {
    "id": PID, "kind": "company", "name": f"{MARK} Präzisionsteile GmbH", "city": "Freiberg",
    "description": f"Die {MARK} fertigt galvanisch beschichtete Präzisionsteile für Sensoren.",
    "offers": f"Galvanik, Hartverchromung und {MARK}-Beschichtung.",
    "needs": f"Wir suchen Partner für die {MARK}-Oberflächenprüfung und Galvanik.",
    "keywords": [MARK, "Galvanik"], "email": f"{MARK.lower()}@example.org",
    "street": f"{MARK}weg 3", "phone": "+49 3731 000-4711",
}
# Pages echo the request, so the queries find the profile without naming the marker.
QUERIES = [{"text": "Präzisionsteile Galvanik Oberflächenprüfung",
            "region": "Landkreis Mittelsachsen",
            "date": "2027-03-18T18:00", "place": "Freiberg", "limit": "50"}]


def csrf(client) -> str:
    client.get("/login")
    with client.session_transaction() as s:
        return s["csrf"]


def send(client, method: str, url: str, body: dict):
    resp = client.open(url, method=method, json=body, headers={"X-CSRF-Token": csrf(client)})
    assert resp.status_code < 300, (url, resp.get_json())
    return resp.get_json()


def cli_outputs(runner, data_dir) -> str:
    base = ["--data-dir", str(data_dir)]
    runs = [["match", "--text", QUERIES[0]["text"], "--internal", "--json", "--limit", "50"],
            ["match", "--profile", "t-co-01", "--internal", "--json", "--limit", "50"],
            ["slam", "--region", "Landkreis Mittelsachsen", "--internal", "--json"],
            ["stats", "--json"], ["show", PID, "--json"], ["token", "list", "--json"]]
    out = []
    for args in runs:
        res = runner.invoke(cli, [*base, *args])
        assert res.exit_code in (0, 1), (args, res.output)
        out.append(res.output)
    return "\n".join(out)


def file_hits(data_dir) -> list[str]:
    needle = MARK.lower().encode()
    return [str(f) for f in sorted(data_dir.rglob("*"))
            if f.is_file() and needle in f.read_bytes().lower()]


@pytest.mark.slow
def test_deleted_profile_leaves_no_trace(indexed_store, data_dir, runner, monkeypatch):
    monkeypatch.setenv("MATCHER_EMBEDDER", "hashing")
    monkeypatch.setenv("MATCHER_SENTENCE_EMBEDDER", "hashing")
    Accounts(indexed_store).add("adam", PW, "admin")
    secret, _ = Tokens(indexed_store).create("CRM", ["profiles:write"])
    bearer = {"Authorization": f"Bearer {secret}"}
    app = create_app({"data_dir": str(data_dir), "TESTING": True})
    anon, admin = app.test_client(), app.test_client()
    assert admin.post("/login", data={"username": "adam", "password": PW,
                                      "csrf_token": csrf(admin)}).status_code == 302

    # create, change, match, shortlist, introduce, export
    assert anon.post("/api/profiles", json=PROFILE, headers=bearer).status_code == 201
    assert anon.patch(f"/api/profiles/{PID}", json={"employees": 47},
                      headers=bearer).status_code == 200
    listed = send(admin, "POST", "/api/shortlists", {"name": "Partner Galvanik",
                                                     "client_id": "t-co-01"})
    send(admin, "POST", f"/api/shortlists/{listed['pk']}/items",
         {"profile_id": PID, "note": f"Rückruf bei {MARK} vereinbart"})
    send(admin, "POST", "/api/shortlists", {"name": "Für die Präzisionsteile", "client_id": PID})
    intro = send(admin, "POST", "/api/intros", {"client_id": "t-co-01", "partner_id": PID})
    send(admin, "PUT", f"/api/intros/{intro['pk']}/draft",
         {"subject": "Vorstellung", "body": f"Guten Tag, darf ich Ihnen {MARK} vorstellen?"})
    values = {"profile_id": [PID, "t-co-01"], "pk": ["1", "2"], "fmt": ["csv", "ics", "html"],
              "slug": ["mittelsachsen", "region-chemnitz"]}
    before = found(list(walk(admin, app, values, QUERIES)), MARK)
    for must in (f"/api/profiles/{PID}", "/api/match?", "/api/search?", "/?text=",
                 "/intros/1", "/api/shortlists/1"):
        assert any(hit.startswith(must) for hit in before), f"{must} zeigte {MARK} nicht"
    assert MARK in cli_outputs(runner, data_dir)
    with Store(data_dir) as s:
        p = s.get(PID)
    vector_keys = [text_hash(view(p)) for view in TEXT_VIEWS.values()]
    assert file_hits(data_dir), "the marker should be on disk before the deletion"

    # erase
    resp = anon.delete(f"/api/profiles/{PID}", headers=bearer)
    assert resp.get_json() == {"ok": True, "removed": [PID]}

    pages = list(walk(admin, app, values, QUERIES)) + list(walk(anon, app, values, QUERIES))
    assert [f"{p.url} [{p.status}]" for p in pages if p.status >= 500] == []
    assert found(pages, MARK, PROFILE["email"], PROFILE["street"]) == []
    assert MARK.lower() not in cli_outputs(runner, data_dir).lower()
    assert anon.get("/api/search", query_string={"text": MARK}).get_json() == []
    assert PID not in admin.get("/api/match", query_string={"text": MARK}).get_data(as_text=True)
    with Store(data_dir) as s:
        rows = s.db.execute("SELECT count(*) FROM embeddings WHERE text_hash IN (?, ?)",
                            vector_keys[:2]).fetchone()[0]
        assert rows == 0
        assert s.db.execute("SELECT count(*) FROM shortlist_items").fetchone()[0] == 0
        assert s.db.execute("SELECT count(*) FROM introductions").fetchone()[0] == 0
        details = [json.loads(r[0]) for r in s.db.execute("SELECT detail FROM audit_log")]
        assert all(MARK not in json.dumps(d) for d in details)
    assert file_hits(data_dir) == []
