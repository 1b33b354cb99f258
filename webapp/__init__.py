"""Flask web app of matcher: German HTML views and a JSON API over the library."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from flask import Flask, g

from matcher.settings import SETTINGS, load_settings


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Application factory: defaults → ``MATCHER_*`` environment → ``test_config``."""
    app = Flask(__name__)
    overrides = dict(test_config or {})
    names = {s.name for s in SETTINGS}
    settings = load_settings({k: overrides.pop(k) for k in list(overrides) if k in names})
    app.config.update(MATCHER_SETTINGS=settings, JSON_SORT_KEYS=False)
    app.extensions["matcher_warm"] = threading.Event()  # set by matcher-web's warm-up
    app.config.update(overrides)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]

    from webapp import api, auth, errors, intros_views, openapi, regions_views, slam_views, views

    errors.register(app)
    from webapp import security

    security.register(app)
    auth.register(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(slam_views.bp)
    app.register_blueprint(intros_views.bp)
    app.register_blueprint(regions_views.bp)
    app.register_blueprint(openapi.bp)
    from webapp import profiles_api

    app.register_blueprint(profiles_api.bp)

    @app.teardown_appcontext
    def close_store(_exc: BaseException | None) -> None:
        store = g.pop("store", None)
        if store is not None:
            store.close()

    return app
