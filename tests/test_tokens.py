"""API tokens: scopes, expiry, revocation, hashing, and ``matcher token``."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from matcher.cli import cli
from matcher.errors import AuthenticationError, ForbiddenError, MatcherError
from matcher.tokens import Tokens, token_digest


def test_create_verify_and_last_use(store):
    tokens = Tokens(store)
    secret, info = tokens.create("CRM-Abgleich", ["profiles:write", "profiles:write"])
    assert secret.startswith("mt_") and len(secret) > 40
    assert info.scopes == ("profiles:write",) and info.active()
    stored = store.db.execute("SELECT token_hash FROM api_tokens").fetchone()[0]
    assert stored == token_digest(secret) and secret not in stored
    assert tokens.verify(secret, "profiles:write").last_used_at is None  # state before the use
    assert tokens.get(info.id).last_used_at is not None
    with pytest.raises(ForbiddenError, match="profiles:read-internal"):
        tokens.verify(secret, "profiles:read-internal")


def test_expired_and_revoked_tokens_fail(store):
    tokens = Tokens(store)
    secret, info = tokens.create("kurz", ["profiles:write"], expires_in_days=1)
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()
    store.db.table("api_tokens").update(info.id, {"expires_at": past})
    with pytest.raises(AuthenticationError, match="abgelaufen"):
        tokens.verify(secret, "profiles:write")
    other, info2 = tokens.create("weg", ["profiles:write"])
    first = tokens.revoke(info2.id).revoked_at
    assert tokens.revoke(info2.id).revoked_at == first
    with pytest.raises(AuthenticationError, match="widerrufen"):
        tokens.verify(other, "profiles:write")
    with pytest.raises(AuthenticationError, match="Unbekanntes"):
        tokens.verify("mt_" + "x" * 43, "profiles:write")


@pytest.mark.parametrize("name, scopes, days, words", [
    ("", ["profiles:write"], None, "Name"), ("x" * 81, ["profiles:write"], None, "Name"),
    ("a", [], None, "Mindestens einen"), ("a", ["alles"], None, "Unbekannter Geltungsbereich"),
    ("a", ["profiles:write"], 0, "Gültigkeit"), ("a", ["profiles:write"], 5000, "Gültigkeit")])
def test_bad_token_requests(store, name, scopes, days, words):
    with pytest.raises(MatcherError, match=words):
        Tokens(store).create(name, scopes, expires_in_days=days)


def test_cli_create_list_revoke(runner, data_dir):
    base = ["--data-dir", str(data_dir), "token"]
    res = runner.invoke(cli, [*base, "create", "CRM", "--scope", "profiles:write",
                              "--expires-days", "30", "--json"])
    assert res.exit_code == 0, res.output
    created = json.loads(res.output)
    assert created["token"].startswith("mt_") and created["active"]
    res = runner.invoke(cli, [*base, "list", "--json"])
    listed = json.loads(res.output)
    assert [t["name"] for t in listed] == ["CRM"] and "token" not in listed[0]
    assert created["token"] not in res.output
    res = runner.invoke(cli, [*base, "revoke", str(created["id"])])
    assert res.exit_code == 0 and "widerrufen" in res.output
    assert "widerrufen" in runner.invoke(cli, [*base, "list"]).output
    res = runner.invoke(cli, [*base, "revoke", "99"])
    assert res.exit_code == 1 and "matcher token list" in res.output
    res = runner.invoke(cli, [*base, "create", "CRM", "--scope", "alles"])
    assert res.exit_code == 2
