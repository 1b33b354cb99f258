"""Per-request resources: one SQLite connection per request on ``g``."""

from __future__ import annotations

from flask import current_app, g, session

from matcher.accounts import Accounts, User
from matcher.geo import Gazetteer, load_gazetteer
from matcher.settings import Settings
from matcher.store import Store


def settings() -> Settings:
    return current_app.config["MATCHER_SETTINGS"]


def store() -> Store:
    if "store" not in g:
        g.store = Store(settings().data_dir)
    return g.store


def gazetteer() -> Gazetteer:
    return load_gazetteer()


def current_user() -> User | None:
    """The logged-in user of this request, or None (anonymous, removed user, or a session from
    before the last password change)."""
    if "user" not in g:
        g.user = None
        uid = session.get("uid")
        if uid is not None:
            user = Accounts(store()).by_pk(int(uid))
            if user is not None and user.password_changed_at == session.get("pwv"):
                g.user = user
    return g.user


def logged_in() -> bool:
    """Whether a user is logged in, or an API token with the scope ``profiles:read-internal``
    was sent (internal profiles and contact fields become visible)."""
    if current_user() is not None:
        return True
    from webapp.profiles_api import token_reads_internal

    return token_reads_internal()
