"""API tokens for machine clients: scoped, revocable, optionally expiring, stored hashed.

A token is shown once, when it is created; the store keeps only its SHA-256 digest (tokens are
32 random bytes, so a fast hash is enough) and the first characters as a recognisable prefix.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from matcher.errors import AuthenticationError, ForbiddenError, MatcherError, NotFoundError
from matcher.store import Store

TOKEN_PREFIX = "mt_"
SCOPES = {
    "profiles:write": "Profile anlegen, ändern und löschen",
    "profiles:read-internal": "interne Profile und Kontaktdaten (E-Mail, Telefon, Straße) lesen",
}
MAX_NAME_LENGTH = 80
MAX_TOKEN_LENGTH = 200


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def token_digest(token: str) -> str:
    """SHA-256 hex digest of a token (what the store keeps)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TokenInfo:
    """A stored token without its secret."""

    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: str
    expires_at: str | None
    last_used_at: str | None
    revoked_at: str | None

    def active(self, now: dt.datetime | None = None) -> bool:
        """Neither revoked nor expired."""
        if self.revoked_at:
            return False
        if self.expires_at:
            return dt.datetime.fromisoformat(self.expires_at) > (now or _now())
        return True

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "prefix": self.prefix,
                "scopes": list(self.scopes), "created_at": self.created_at,
                "expires_at": self.expires_at, "last_used_at": self.last_used_at,
                "revoked_at": self.revoked_at, "active": self.active()}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> TokenInfo:
        return cls(int(row["pk"]), row["name"], row["prefix"], tuple(json.loads(row["scopes"])),
                   row["created_at"], row["expires_at"], row["last_used_at"], row["revoked_at"])


def check_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """The scopes, deduplicated and validated.

    Raises:
        MatcherError: no scope, or an unknown one (the message lists the known scopes).
    """
    out = tuple(dict.fromkeys(s.strip() for s in scopes if s.strip()))
    known = ", ".join(SCOPES)
    if not out:
        raise MatcherError(f"Mindestens einen Geltungsbereich (scope) angeben: {known}.")
    bad = [s for s in out if s not in SCOPES]
    if bad:
        raise MatcherError(f"Unbekannter Geltungsbereich {', '.join(bad)} — erlaubt: {known}.")
    return out


class Tokens:
    """Create, list, revoke and verify API tokens of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._table = store.db.table("api_tokens")

    def create(self, name: str, scopes: Iterable[str], *,
               expires_in_days: float | None = None) -> tuple[str, TokenInfo]:
        """A new token; returns (the secret token, shown only now, and its stored record).

        Raises:
            MatcherError: empty or too long name, unknown scope, non-positive expiry.
        """
        name = name.strip()
        if not name or len(name) > MAX_NAME_LENGTH:
            raise MatcherError(f"Name des Tokens: 1–{MAX_NAME_LENGTH} Zeichen, z. B. "
                               "'CRM-Abgleich'.")
        valid = check_scopes(scopes)
        now = _now()
        expires = None
        if expires_in_days is not None:
            if not 0 < expires_in_days <= 3650:
                raise MatcherError("Gültigkeit in Tagen: größer als 0 und höchstens 3650.")
            expires = (now + dt.timedelta(days=expires_in_days)).isoformat()
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.store.transaction():
            pk = self._table.insert({
                "name": name, "token_hash": token_digest(secret), "prefix": secret[:10],
                "scopes": json.dumps(list(valid)), "created_at": now.isoformat(),
                "expires_at": expires, "last_used_at": None, "revoked_at": None,
            }).last_pk
        return secret, self.get(int(pk or 0))

    def get(self, token_id: int) -> TokenInfo:
        """One token by id.

        Raises:
            NotFoundError: no token has this id.
        """
        rows = list(self._table.rows_where("pk = ?", [token_id]))
        if not rows:
            raise NotFoundError(f"Kein Token mit der Nummer {token_id} — 'matcher token list' "
                                "zeigt alle.")
        return TokenInfo.from_row(rows[0])

    def list(self) -> list[TokenInfo]:
        """Every token, newest first (revoked and expired ones included)."""
        return [TokenInfo.from_row(r) for r in self._table.rows_where(order_by="pk desc")]

    def revoke(self, token_id: int) -> TokenInfo:
        """Revoke a token for good (revoking twice keeps the first time).

        Raises:
            NotFoundError: no token has this id.
        """
        info = self.get(token_id)
        if info.revoked_at is None:
            with self.store.transaction():
                self._table.update(token_id, {"revoked_at": _now().isoformat()})
        return self.get(token_id)

    def verify(self, token: str, scope: str) -> TokenInfo:
        """The token's record if it is active and grants ``scope``; records the time of use.

        Raises:
            AuthenticationError: unknown, malformed, revoked or expired token.
            ForbiddenError: the token lacks ``scope``.
        """
        token = token.strip()
        if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
            raise AuthenticationError("Ungültiges API-Token — Kopfzeile 'Authorization: Bearer "
                                      "mt_…' mit einem Token aus 'matcher token create' senden.")
        digest = token_digest(token)
        rows = list(self._table.rows_where("token_hash = ?", [digest]))
        if not rows or not hmac.compare_digest(rows[0]["token_hash"], digest):
            raise AuthenticationError("Unbekanntes API-Token — ein neues mit 'matcher token "
                                      "create' anlegen.")
        info = TokenInfo.from_row(rows[0])
        if info.revoked_at:
            raise AuthenticationError(f"API-Token {info.prefix}… wurde widerrufen — ein neues "
                                      "anlegen.")
        if not info.active():
            raise AuthenticationError(f"API-Token {info.prefix}… ist abgelaufen — ein neues "
                                      "anlegen.")
        if scope not in info.scopes:
            raise ForbiddenError(f"API-Token {info.prefix}… darf das nicht: Geltungsbereich "
                                 f"{scope!r} fehlt.")
        with self.store.transaction():
            self._table.update(info.id, {"last_used_at": _now().isoformat()})
        return info
