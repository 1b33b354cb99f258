"""User accounts of the workspace: roles, scrypt password hashes, login throttling."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from matcher.audit import AuditLog, stamp, utc_now
from matcher.errors import (
    AuthenticationError,
    ConflictError,
    MatcherError,
    NotFoundError,
    TooManyAttemptsError,
)
from matcher.store import Store

ROLES = ("manager", "organiser", "admin")
ROLE_LABELS = {"manager": "Innovationsmanagement", "organiser": "Veranstaltungen",
               "admin": "Administration"}
USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{1,39}")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
# scrypt cost n=2**14, r=8: 16 MiB of memory per hash (interactive-login level).
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
_LOGIN_FAILED = "Benutzername oder Passwort ist falsch."


def hash_password(password: str) -> str:
    """A salted scrypt hash as ``scrypt$n$r$p$salt$hash`` (hex)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` produces the stored hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                             p=int(p), dklen=len(digest) // 2)
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


_DUMMY_HASH = hash_password(secrets.token_hex(8))


def check_password_rules(password: str, username: str = "") -> None:
    """Raises MatcherError with a German hint when a new password is too weak."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise MatcherError(f"Passwort: mindestens {MIN_PASSWORD_LENGTH} Zeichen — bitte ein "
                           "längeres wählen.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise MatcherError(f"Passwort: höchstens {MAX_PASSWORD_LENGTH} Zeichen.")
    if username and username.lower() in password.lower():
        raise MatcherError("Passwort: darf den Benutzernamen nicht enthalten.")


@dataclass(frozen=True)
class User:
    """An account (never carries the password hash)."""

    pk: int
    username: str
    role: str
    display_name: str
    email: str
    created_at: str
    password_changed_at: str

    @property
    def label(self) -> str:
        return self.display_name or self.username

    def has_role(self, *roles: str) -> bool:
        """Admins pass every role check; others need one of ``roles`` (none given: any)."""
        return not roles or self.role == "admin" or self.role in roles

    def as_dict(self) -> dict[str, Any]:
        return {"username": self.username, "role": self.role, "role_label":
                ROLE_LABELS[self.role], "display_name": self.display_name, "email": self.email,
                "created_at": self.created_at}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> User:
        return cls(int(row["pk"]), row["username"], row["role"], row["display_name"] or "",
                   row["email"] or "", row["created_at"], row["password_changed_at"])


class Accounts:
    """Create, find, authenticate and remove users."""

    def __init__(self, store: Store, audit: AuditLog | None = None) -> None:
        self.store = store
        self.audit = audit or AuditLog(store)
        self._users = store.db.table("users")

    def add(self, username: str, password: str, role: str, *, display_name: str = "",
            email: str = "", actor: str = "cli") -> User:
        """Create a user.

        Raises:
            MatcherError: invalid name, role or password (the message says which).
            ConflictError: the user name is taken.
        """
        username = username.strip().lower()
        if not USERNAME_PATTERN.fullmatch(username):
            raise MatcherError("Benutzername: 2–40 Zeichen aus a–z, 0–9, Punkt, Binde- und "
                               f"Unterstrich, beginnend mit Buchstabe oder Ziffer — nicht "
                               f"{username!r}.")
        if role not in ROLES:
            raise MatcherError(f"Rolle {role!r} gibt es nicht — erlaubt: {', '.join(ROLES)}.")
        if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            raise MatcherError(f"E-Mail-Adresse {email!r} ist ungültig.")
        check_password_rules(password, username)
        now = stamp(utc_now())
        with self.store.transaction():
            if self._row(username) is not None:
                raise ConflictError(f"Benutzer {username!r} gibt es schon.")
            self._users.insert({"username": username, "display_name": display_name.strip(),
                                "email": email.strip(), "role": role,
                                "password_hash": hash_password(password),
                                "password_changed_at": now, "created_at": now})
            self.audit.record(actor, "user.add", f"user:{username}", role=role)
        return self.get(username)

    def remove(self, username: str, *, actor: str = "cli", reassign_to: str | None = None
               ) -> None:
        """Delete a user; their shortlists and introductions go to ``reassign_to``.

        Raises:
            NotFoundError: no such user (or no such ``reassign_to``).
            ConflictError: the user still owns work and nobody was named to take it over.
        """
        user = self.get(username)
        heir = self.get(reassign_to) if reassign_to else None
        db = self.store.db
        with self.store.transaction():
            owned = sum(int(db.execute(f"SELECT count(*) FROM {t} WHERE owner = ?",
                                       [user.pk]).fetchone()[0])
                        for t in ("shortlists", "introductions"))
            if owned and heir is None:
                raise ConflictError(
                    f"{username} hat noch {owned} Merklisten/Vorstellungen — mit --reassign "
                    "BENUTZER an jemanden übertragen. Nichts wurde gelöscht.")
            if heir is not None:
                for table in ("shortlists", "introductions"):
                    db.execute(f"UPDATE {table} SET owner = ? WHERE owner = ?",
                               [heir.pk, user.pk])
            self._users.delete(user.pk)
            self.audit.record(actor, "user.remove", f"user:{username}",
                              reassigned_to=heir.username if heir else None)

    def list(self) -> list[User]:
        return [User.from_row(r) for r in self._users.rows_where(order_by="username")]

    def get(self, username: str) -> User:
        """Raises NotFoundError for an unknown user name."""
        row = self._row(username.strip().lower())
        if row is None:
            raise NotFoundError(f"Keinen Benutzer {username!r} — `matcher user list` zeigt alle.")
        return User.from_row(row)

    def by_pk(self, pk: int) -> User | None:
        rows = list(self._users.rows_where("pk = ?", [pk]))
        return User.from_row(rows[0]) if rows else None

    def authenticate(self, username: str, password: str) -> User:
        """The user if the password is right.

        Raises:
            AuthenticationError: unknown user or wrong password (one message for both).
        """
        row = self._row(username.strip().lower())
        if row is None:
            verify_password(password, _DUMMY_HASH)  # same cost as a real check
            raise AuthenticationError(_LOGIN_FAILED)
        if not verify_password(password, row["password_hash"]):
            raise AuthenticationError(_LOGIN_FAILED)
        return User.from_row(row)

    def change_password(self, username: str, old: str, new: str) -> User:
        """Set a new password after checking the old one.

        Raises:
            AuthenticationError: the old password is wrong.
            MatcherError: the new password breaks the rules.
        """
        user = self.authenticate(username, old)
        check_password_rules(new, user.username)
        if new == old:
            raise MatcherError("Neues Passwort: muss sich vom bisherigen unterscheiden.")
        with self.store.transaction():
            self._users.update(user.pk, {"password_hash": hash_password(new),
                                         # microseconds: sessions opened in the same
                                         # second as the change must still end
                                         "password_changed_at": dt.datetime.now(
                                             dt.UTC).isoformat(timespec="microseconds")})
            self.audit.record(user.username, "user.password", f"user:{user.username}")
        return self.get(user.username)

    def _row(self, username: str) -> dict[str, Any] | None:
        rows = list(self._users.rows_where("username = ?", [username]))
        return rows[0] if rows else None


class LoginThrottle:
    """Counts failed logins per key (IP and user name) in a sliding window."""

    def __init__(self, max_failures: int = 5, window_s: float = 900.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures, self.window_s, self.clock = max_failures, window_s, clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Raises TooManyAttemptsError while the key is blocked."""
        with self._lock:
            recent = self._recent(key)
            if len(recent) >= self.max_failures:
                wait = max(1, round((recent[0] + self.window_s - self.clock()) / 60))
                raise TooManyAttemptsError(
                    f"Zu viele fehlgeschlagene Anmeldungen — bitte in {wait} Minute(n) erneut "
                    "versuchen.")

    def failed(self, key: str) -> None:
        with self._lock:
            self._failures[key] = [*self._recent(key), self.clock()]

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _recent(self, key: str) -> list[float]:
        cutoff = self.clock() - self.window_s
        return [t for t in self._failures.get(key, []) if t > cutoff]
