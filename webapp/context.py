"""Per-request resources: one SQLite connection per request on ``g``."""

from __future__ import annotations

from flask import current_app, g

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


def logged_in() -> bool:
    """Accounts arrive with the introductions workspace; until then every visitor is anonymous."""
    return False
