from __future__ import annotations

import json

import pytest

from matcher.accounts import Accounts, LoginThrottle, hash_password, verify_password
from matcher.audit import AuditLog
from matcher.cli import cli
from matcher.errors import (
    AuthenticationError,
    ConflictError,
    MatcherError,
    NotFoundError,
    TooManyAttemptsError,
)
from matcher.store import Store

PW = "Glück-auf-2026"


def test_hash_is_salted_and_verifies():
    a, b = hash_password(PW), hash_password(PW)
    assert a != b and a.startswith("scrypt$")
    assert verify_password(PW, a) and verify_password(PW, b)
    assert not verify_password(PW + "x", a)
    assert not verify_password(PW, "kaputt")


def test_add_authenticate_change_password_and_audit(store):
    acc = Accounts(store)
    user = acc.add("Anna.Krause", PW, "manager", display_name="Anna Krause",
                   email="anna@example.org")
    assert user.username == "anna.krause" and user.role == "manager"
    assert "password_hash" not in user.as_dict()
    assert acc.authenticate("anna.krause", PW).pk == user.pk
    with pytest.raises(AuthenticationError) as wrong:
        acc.authenticate("anna.krause", "falsch-falsch")
    with pytest.raises(AuthenticationError) as unknown:
        acc.authenticate("niemand", PW)
    assert wrong.value.message == unknown.value.message  # no user enumeration
    acc.change_password("anna.krause", PW, "Neues-Passwort-42")
    assert acc.authenticate("anna.krause", "Neues-Passwort-42")
    with pytest.raises(AuthenticationError):
        acc.authenticate("anna.krause", PW)
    actions = [e["action"] for e in AuditLog(store).entries()]
    assert actions == ["user.password", "user.add"]


@pytest.mark.parametrize("username,password,role,field", [
    ("a", PW, "manager", "Benutzername"),
    ("Anna Krause", PW, "manager", "Benutzername"),
    ("anna", PW, "chef", "Rolle"),
    ("anna", "kurz", "manager", "Passwort"),
    ("anna", "anna-passwort-lang", "manager", "Passwort"),
])
def test_add_rejects_bad_input_with_the_field_named(store, username, password, role, field):
    with pytest.raises(MatcherError) as err:
        Accounts(store).add(username, password, role)
    assert err.value.message.startswith(field)


def test_duplicate_user_and_remove_with_reassign(store, gazetteer):
    from matcher.ingest import ingest_files
    from matcher.intros import Intros
    from tests.conftest import PROFILES

    ingest_files(store, [PROFILES], gazetteer)
    acc = Accounts(store)
    anna = acc.add("anna", PW, "manager")
    acc.add("ben", PW, "manager")
    with pytest.raises(ConflictError):
        acc.add("anna", PW, "admin")
    Intros(store).create_shortlist(anna, "Schweißen", "t-co-01")
    with pytest.raises(ConflictError, match="--reassign"):
        acc.remove("anna")
    acc.remove("anna", reassign_to="ben")
    assert [u.username for u in acc.list()] == ["ben"]
    assert Intros(store).shortlists(acc.get("ben"))[0].owner == "ben"
    with pytest.raises(NotFoundError):
        acc.remove("anna")


def test_users_survive_a_restart(data_dir):
    with Store(data_dir) as s:
        Accounts(s).add("carla", PW, "organiser")
    with Store(data_dir) as s:
        assert Accounts(s).authenticate("carla", PW).role == "organiser"


def test_login_throttle_blocks_after_five_failures_and_forgets_later():
    now = [0.0]
    t = LoginThrottle(max_failures=5, window_s=900, clock=lambda: now[0])
    for _ in range(5):
        t.check("1.2.3.4|anna")
        t.failed("1.2.3.4|anna")
    with pytest.raises(TooManyAttemptsError) as err:
        t.check("1.2.3.4|anna")
    assert err.value.status == 429 and "Minute" in err.value.message
    t.check("1.2.3.4|ben")  # other user from the same address is not blocked
    now[0] = 901.0
    t.check("1.2.3.4|anna")


def test_cli_user_add_list_remove(runner, data_dir):
    base = ["--data-dir", str(data_dir), "user"]
    res = runner.invoke(cli, [*base, "add", "dora", "--role", "manager", "--name", "Dora Weiß",
                              "--email", "dora@example.org"], input=f"{PW}\n{PW}\n")
    assert res.exit_code == 0, res.output
    assert "dora" in res.output
    res = runner.invoke(cli, [*base, "list", "--json"])
    users = json.loads(res.output)
    assert users[0]["username"] == "dora" and users[0]["display_name"] == "Dora Weiß"
    assert users[0]["role"] == "manager"
    res = runner.invoke(cli, [*base, "add", "dora", "--role", "manager"], input=f"{PW}\n{PW}\n")
    assert res.exit_code == 1 and "gibt es schon" in res.output
    res = runner.invoke(cli, [*base, "add", "emil", "--role", "boss"], input=f"{PW}\n{PW}\n")
    assert res.exit_code != 0
    res = runner.invoke(cli, [*base, "remove", "dora"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, [*base, "list"])
    assert "dora" not in res.output
