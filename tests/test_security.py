"""Bad input at the HTTP edge, security headers, error handling and secrets.

Every GET endpoint of the app is called with garbage (wrong types, huge numbers, very long
values, NUL bytes, invalid UTF-8 percent-escapes, injection strings), anonymously and logged in:
never a 500, never a stack trace, the one JSON error shape under /api, security headers always.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import logging
import re
import subprocess
from urllib.parse import quote

import pytest
from flask import Flask

from matcher.accounts import Accounts
from matcher.store import Store
from tests.conftest import ROOT, running_server
from webapp import create_app
from webapp.security import CSP, MAX_QUERY_BYTES

WEBAPP = ROOT / "webapp"
PASSWORD = "Sicheres-Passwort-2026!"
# Parameter names the views read, found in the source so that new ones are walked too.
PARAMS = sorted(set(re.findall(r"request\.(?:args|values)\.get(?:list)?\(\s*[\"'](\w+)[\"']",
                               "".join(p.read_text("utf-8") for p in WEBAPP.glob("*.py")))))
RAW_GARBAGE = ["%00", "a%00b", "%ff%fe", "%C3%28", "%E2%82", "%0d%0aSet-Cookie:x=1", "%",
               "%%", "%zz", "ok%7f"]
GARBAGE = [quote(v, safe="") for v in (
    "", "x", "-1", "0", "1e309", "nan", "-inf", "99999999999999999999", "1,5", ",,,", "ä" * 600,
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "' OR 1=1 --",
    "../../etc/passwd", "{{7*7}}", "[]", "\u202egnp.exe", "Freiberg", "2027-02-30T25:61",
    "Erzgebirgskreis", "t-co-01")] + RAW_GARBAGE
GOOD_PATH = {"profile_id": "t-co-01", "pk": "1", "fmt": "html", "slug": "erzgebirgskreis",
             "filename": "style.css"}
LONG = quote("ö" * (MAX_QUERY_BYTES // 2), safe="")


@pytest.fixture
def app(indexed_store, data_dir) -> Flask:
    Accounts(indexed_store).add("admin", PASSWORD, "admin")
    return create_app({"data_dir": str(data_dir), "embedder": "hashing",
                       "sentence_embedder": "hashing", "TESTING": True})


def login(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "login form without CSRF token"
    resp = client.post("/login", data={"username": "admin", "password": PASSWORD,
                                       "csrf_token": token.group(1)})
    assert resp.status_code in (302, 303), resp.status_code


def get_rules(app: Flask):
    return [r for r in app.url_map.iter_rules() if "GET" in r.methods]


def path_for(rule, values: dict[str, str]) -> str:
    path = rule.rule
    for arg in rule.arguments:
        path = re.sub(rf"<(?:[a-z]+:)?{arg}>", values.get(arg, GOOD_PATH.get(arg, "x")), path)
    return path


def check(client, url: str) -> None:
    resp = client.get(url)
    body = resp.get_data(as_text=True)
    assert resp.status_code < 500, (url, resp.status_code, body[:300])
    assert "Traceback" not in body and 'File "/' not in body, url
    for header in ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options",
                   "Referrer-Policy"):
        assert header in resp.headers, (url, header)
    path = url.split("?", 1)[0]
    if resp.status_code >= 400 and (path.startswith("/api/") or path == "/healthz"):
        data = resp.get_json()
        assert data == {"ok": False, "error": data["error"], "status": resp.status_code}, url
        assert data["error"].strip(), url


@pytest.mark.parametrize("logged_in", [False, True], ids=["anonym", "angemeldet"])
def test_every_get_endpoint_survives_garbage(app, logged_in):
    client = app.test_client()
    if logged_in:
        login(client)
    assert {"text", "near", "limit", "region", "date"} <= set(PARAMS)
    for rule in get_rules(app):
        for value in GARBAGE:
            # every parameter at once with the same garbage, and the path arguments too
            query = "&".join(f"{p}={value}" for p in PARAMS)
            check(client, f"{path_for(rule, {})}?{query}")
            if rule.arguments:
                check(client, path_for(rule, dict.fromkeys(rule.arguments, value or "-")))
        for param in PARAMS:  # one parameter at a time, the others empty
            for value in (*RAW_GARBAGE[:4], LONG):
                check(client, f"{path_for(rule, {})}?{param}={value}")


def test_malformed_parameters_get_a_clear_german_400(app):
    client = app.test_client()
    cases = {"/api/match?text=a%00b": "Steuerzeichen", "/api/match?text=%ff": "UTF-8",
             f"/api/match?text={LONG}": "zu lang", "/?text=%C3%28": "UTF-8",
             "/profile/a%00b": "Steuerzeichen"}
    for url, words in cases.items():
        resp = client.get(url)
        assert resp.status_code == 400, url
        assert words in resp.get_data(as_text=True), url
    assert client.get("/api/match?text=%ff").get_json()["error"].startswith("Adresse oder")


@pytest.fixture
def server(indexed_store, data_dir):
    """The production server (waitress via matcher-web) on a free loopback port."""
    with running_server(data_dir) as url:
        yield int(url.rsplit(":", 1)[1])


def raw_get(port: int, target: str) -> tuple[int, str]:
    """GET with the request target sent byte for byte (no client-side re-encoding)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.putrequest("GET", target, skip_accept_encoding=True)
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read().decode("utf-8", "replace")
    conn.close()
    return resp.status, body


def test_real_server_rejects_raw_bad_bytes_with_400(server):
    cases = {"/profile/t-co%ff": "UTF-8", "/api/profiles/%C3%28": "UTF-8",
             "/api/match?text=%ff%fe": "UTF-8", "/api/match?text=a%00b": "Steuerzeichen",
             "/regionen/%00": "Steuerzeichen", f"/api/search?text={LONG}": "zu lang"}
    for target, words in cases.items():
        status, body = raw_get(server, target)
        assert status == 400 and words in body, (target, status, body[:200])
        assert "Traceback" not in body
        if target.startswith("/api/"):
            assert json.loads(body)["status"] == 400
    status, body = raw_get(server, "/api/match?text=" + "x" * 300_000)  # beyond waitress' limit
    assert 400 <= status < 500 and "Traceback" not in body


def test_oversized_bodies_get_413_in_the_one_json_shape(app):
    client = app.test_client()
    big = b"{" + b" " * (10 * 2**20 + 1) + b"}"
    for method in ("post", "put"):
        resp = getattr(client, method)("/api/profiles", data=big,
                                       content_type="application/json")
        assert resp.status_code == 413
        data = resp.get_json()
        assert data == {"ok": False, "error": data["error"], "status": 413}
        assert "höchstens 10 MB" in data["error"]
    page = client.post("/login", data=big, content_type="application/x-www-form-urlencoded")
    assert page.status_code == 413 and "Anfrage zu groß" in page.get_data(as_text=True)


def test_body_limit_is_configurable(indexed_store, data_dir):
    app = create_app({"data_dir": str(data_dir), "MAX_CONTENT_LENGTH": 1000, "TESTING": True})
    resp = app.test_client().post("/api/profiles", data=b"x" * 1001,
                                  content_type="application/json")
    assert resp.status_code == 413 and "höchstens 1000 Byte" in resp.get_json()["error"]


def test_standard_errors_are_german(app):
    client = app.test_client()
    resp = client.get("/api/gibt-es-nicht")
    assert resp.status_code == 404 and "Diese Seite gibt es nicht" in resp.get_json()["error"]
    resp = client.open("/api/stats", method="TRACE")
    assert resp.status_code == 405 and resp.get_json()["error"].startswith("Diese Methode")
    page = client.get("/gibt-es-nicht").get_data(as_text=True)
    assert "Diese Seite gibt es nicht" in page and "<!doctype html>" in page
    # a view's own description stays
    assert "t-nope" in client.get("/profile/t-nope").get_data(as_text=True)


@pytest.fixture
def broken_app(indexed_store, data_dir) -> Flask:
    app = create_app({"data_dir": str(data_dir), "TESTING": True,
                      "PROPAGATE_EXCEPTIONS": False})

    @app.get("/api/kaputt")
    @app.get("/kaputt")
    def kaputt():
        raise RuntimeError("geheimes Detail: /srv/matcher/instance/secret_key")

    return app


def test_unexpected_errors_are_generic_and_logged(broken_app, caplog):
    client = broken_app.test_client()
    with caplog.at_level(logging.ERROR, logger="webapp.security"):
        api = client.get("/api/kaputt")
        page = client.get("/kaputt")
    assert api.status_code == 500 and page.status_code == 500
    data = api.get_json()
    assert data == {"ok": False, "error": data["error"], "status": 500}
    assert data["error"].startswith("Interner Fehler")
    for body in (api.get_data(as_text=True), page.get_data(as_text=True)):
        assert "geheimes Detail" not in body and "RuntimeError" not in body
        assert "Traceback" not in body
    assert "Interner Fehler" in page.get_data(as_text=True)
    assert "geheimes Detail" in caplog.text and "Traceback" in caplog.text
    assert "Content-Security-Policy" in page.headers


def test_in_tests_unexpected_errors_still_propagate(indexed_store, data_dir):
    app = create_app({"data_dir": str(data_dir), "TESTING": True})

    @app.get("/kaputt")
    def kaputt():
        raise RuntimeError("sichtbar im Test")

    with pytest.raises(RuntimeError, match="sichtbar im Test"):
        app.test_client().get("/kaputt")


def test_every_html_page_has_the_security_headers(app):
    client = app.test_client()
    login(client)
    pages = 0
    for rule in get_rules(app):
        resp = client.get(path_for(rule, {}) + "?text=Galvanik&region=Erzgebirgskreis")
        if resp.mimetype != "text/html":
            continue
        pages += 1
        csp = resp.headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["Referrer-Policy"] == "same-origin"
        if rule.endpoint != "slam.export":
            assert csp == CSP, rule.endpoint
    assert pages >= 10


def test_printable_programme_allows_only_its_own_style_block(app):
    resp = app.test_client().get("/api/slam/export.html?region=Erzgebirgskreis")
    assert resp.status_code == 200
    body = resp.get_data()
    block = re.search(rb"<style>(.*?)</style>", body, re.S)
    assert block
    digest = base64.b64encode(hashlib.sha256(block.group(1)).digest()).decode()
    csp = resp.headers["Content-Security-Policy"]
    assert f"style-src 'self' 'sha256-{digest}'" in csp and "unsafe-inline" not in csp


def test_templates_have_no_inline_scripts_handlers_or_styles():
    for path in sorted((WEBAPP / "templates").glob("*.html")):
        text = path.read_text("utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text, re.I):
            assert "src=" in tag, f"{path.name}: inline <script> block"
        assert not re.search(r"<script\b[^>]*\bsrc=[^>]*>\s*(?!</script>)\S", text, re.I), (
            f"{path.name}: code inside a <script src> element")
        assert not re.search(r"\son[a-z]+\s*=", text, re.I), f"{path.name}: on*= handler"
        assert not re.search(r"\sstyle\s*=", text, re.I), f"{path.name}: style= attribute"
        assert not re.search(r"<style\b", text, re.I), f"{path.name}: <style> block"
        assert "javascript:" not in text.lower(), path.name
        assert "|safe" not in text.replace(" ", ""), f"{path.name}: unescaped |safe output"


SECRET_PATTERNS = [
    r"SECRET_KEY\s*[=:]\s*[\"'][^\"']+[\"']",
    r"-----BEGIN (?:RSA |EC |DSA |OPENSSH )?PRIVATE KEY-----",
    r"AKIA[0-9A-Z]{16}",
    r"(?:api[_-]?key|token|passw(?:or)?d)\s*[=:]\s*[\"'][A-Za-z0-9+/_\-]{24,}[\"']",
    r"gh[pousr]_[A-Za-z0-9]{30,}",
]


def test_no_secret_is_committed():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    assert files
    for name in files:
        assert not re.search(r"(^|/)(secret_key|\.env|.*\.pem|id_rsa)$", name), name
        path = ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        try:
            text = path.read_text("utf-8")
        except UnicodeDecodeError:
            continue
        for pattern in SECRET_PATTERNS:
            hit = re.search(pattern, text, re.I)
            assert hit is None, f"{name}: {hit.group(0)[:40] if hit else ''}"


def test_secret_key_is_generated_into_the_data_dir(data_dir, store: Store):
    app = create_app({"data_dir": str(data_dir)})
    key = app.config["SECRET_KEY"]
    assert isinstance(key, bytes | str) and len(key) >= 32
    assert (data_dir / "secret_key").stat().st_mode & 0o077 == 0
    assert create_app({"data_dir": str(data_dir)}).config["SECRET_KEY"] == key


def test_a_views_own_smaller_limit_message_is_kept(app, indexed_store):
    from matcher.tokens import Tokens

    secret, _ = Tokens(indexed_store).create("Test", ["profiles:write"])
    resp = app.test_client().post("/api/profiles", data=b"{" + b" " * 300_000 + b"}",
                                  content_type="application/json",
                                  headers={"Authorization": f"Bearer {secret}"})
    assert resp.status_code == 413
    assert "256 KiB" in resp.get_json()["error"]


def test_json_bodies_with_lone_surrogates_are_a_400(app, indexed_store):
    from matcher.tokens import Tokens

    secret, _ = Tokens(indexed_store).create("Test", ["profiles:write"])
    client = app.test_client()
    auth = {"Authorization": f"Bearer {secret}"}
    for method, url, body in (
            ("patch", "/api/profiles/t-co-01", '{"description": "kaputt \\ud800"}'),
            ("post", "/api/profiles", '{"id": "n1", "kind": "company", "name": "A\\udc00", '
                                      '"description": "x", "city": "Freiberg"}'),
            ("patch", "/api/profiles/t-co-01", '{"\\ud83d": "x"}')):
        resp = getattr(client, method)(url, data=body, content_type="application/json",
                                       headers=auth)
        assert resp.status_code == 400, (url, body, resp.get_data(as_text=True))
        assert "Surrogat" in resp.get_json()["error"]
    deep = client.post("/api/profiles", data="[" * 100_000 + "]" * 100_000,
                       content_type="application/json", headers=auth)
    assert deep.status_code == 400


def test_fuzzed_profile_bodies_never_cause_a_500(app, indexed_store):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from matcher.tokens import Tokens
    from tests.test_fuzz_import import RECORD, junk

    secret, _ = Tokens(indexed_store).create("Test", ["profiles:write"])
    client = app.test_client()
    auth = {"Authorization": f"Bearer {secret}"}
    statuses: set[int] = set()

    @settings(max_examples=150, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(body=st.one_of(RECORD, junk), method=st.sampled_from(["post", "patch", "put"]),
           ascii_only=st.booleans())
    def one(body, method: str, ascii_only: bool) -> None:
        url = "/api/profiles" if method == "post" else "/api/profiles/t-co-04"
        data = json.dumps(body, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
        resp = getattr(client, method)(url, data=data, content_type="application/json",
                                       headers=auth)
        statuses.add(resp.status_code)
        assert resp.status_code < 500, (method, body, resp.get_data(as_text=True)[:300])
        if resp.status_code >= 400:
            assert resp.get_json()["status"] == resp.status_code

    one()
    assert 400 in statuses
