"""Login, logout, password change; role checks and CSRF protection for every blueprint.

The session is Flask's signed cookie (HttpOnly, SameSite=Lax) with a secret key generated on
first run into the data directory (file mode 0600). Every state-changing request must carry the
session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``).
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from matcher.accounts import ROLE_LABELS, Accounts, LoginThrottle
from matcher.errors import (
    AuthenticationError,
    ForbiddenError,
    MatcherError,
    TooManyAttemptsError,
)
from webapp import context

bp = Blueprint("auth", __name__)
SECRET_KEY_FILE = "secret_key"
SESSION_LIFETIME = dt.timedelta(hours=12)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_MESSAGE = ("Sicherheits-Token fehlt oder ist abgelaufen — bitte die Seite neu laden und "
                "erneut absenden.")


def load_secret_key(data_dir: str | Path) -> bytes:
    """The app's secret key from ``<data_dir>/secret_key``, created (mode 0600) if missing."""
    path = Path(data_dir) / SECRET_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex())
    return key


def register(app: Flask) -> None:
    """Session settings, secret key, login throttle, CSRF check and template helpers."""
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_secret_key(app.config["MATCHER_SETTINGS"].data_dir)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    app.config["PERMANENT_SESSION_LIFETIME"] = SESSION_LIFETIME
    app.extensions["login_throttle"] = LoginThrottle()
    app.before_request(_check_csrf)
    app.context_processor(lambda: {"csrf_token": csrf_token,
                                   "current_user": context.current_user,
                                   "role_labels": ROLE_LABELS})
    app.register_blueprint(bp)


# -- CSRF -------------------------------------------------------------------
def csrf_token() -> str:
    """The session's CSRF token (created on first use)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def csrf_protect() -> None:
    """Raises MatcherError (400) unless the request carries the session's CSRF token."""
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        raise MatcherError(CSRF_MESSAGE)


def csrf_exempt(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view as not needing a CSRF token (it must authenticate otherwise)."""
    view.csrf_exempt = True  # type: ignore[attr-defined]
    return view


def _check_csrf() -> None:
    if request.method in SAFE_METHODS:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, "csrf_exempt", False):
        return
    # Browsers never attach an Authorization header on their own, so token-authenticated
    # API calls cannot be forged cross-site.
    if request.headers.get("Authorization", "").startswith("Bearer "):
        return
    csrf_protect()


# -- roles ------------------------------------------------------------------
def login_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Only logged-in users with one of ``roles`` (admins always; no roles: anyone logged in).

    Anonymous: 401 JSON under /api, otherwise a redirect to /login. Wrong role: 403.
    """
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = context.current_user()
            if user is None:
                if request.path.startswith("/api"):
                    raise AuthenticationError("Bitte zuerst anmelden (/login).")
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not user.has_role(*roles):
                labels = " oder ".join(ROLE_LABELS[r] for r in roles)
                raise ForbiddenError(f"Diese Seite ist der Rolle {labels} vorbehalten.")
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # type: ignore[attr-defined]
        return wrapped

    return decorate


def public_form(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a state-changing view anyone may use (it still needs the CSRF token)."""
    view.public_form = True  # type: ignore[attr-defined]
    return view


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirects)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


# -- views ------------------------------------------------------------------
def _start_session(user: Any) -> None:
    session.clear()
    session.permanent = True
    session["uid"] = user.pk
    session["pwv"] = user.password_changed_at
    session["csrf"] = secrets.token_urlsafe(32)


@bp.route("/login", methods=["GET", "POST"])
@public_form
def login():
    """Login form; after success back to ``next`` (a local path) or to the account page."""
    nxt = safe_next(request.values.get("next"), url_for("auth.account"))
    if request.method == "GET":
        return render_template("login.html", next=nxt, username="", error=None)
    username = request.form.get("username", "").strip()[:40]
    password = request.form.get("password", "")[:1024]
    throttle: LoginThrottle = current_app.extensions["login_throttle"]
    key = f"{request.remote_addr}|{username.lower()}"
    try:
        throttle.check(key)
        user = Accounts(context.store()).authenticate(username, password)
    except AuthenticationError as exc:
        throttle.failed(key)
        return render_template("login.html", next=nxt, username=username,
                               error=exc.message), 401
    except TooManyAttemptsError as exc:
        return render_template("login.html", next=nxt, username=username,
                               error=exc.message), 429
    throttle.succeeded(key)
    _start_session(user)
    return redirect(nxt)


@bp.post("/logout")
@public_form
def logout():
    session.clear()
    return redirect(url_for("views.index"))


@bp.get("/account")
@login_required()
def account():
    """Mein Bereich: account, links into the workspace, password change."""
    return _account_page(None, None)


@bp.post("/account/password")
@login_required()
def change_password():
    user = context.current_user()
    assert user is not None
    new, repeat = request.form.get("new_password", ""), request.form.get("repeat_password", "")
    if new != repeat:
        return _account_page("Neues Passwort: die beiden Eingaben stimmen nicht überein.",
                             None, 400)
    try:
        updated = Accounts(context.store()).change_password(
            user.username, request.form.get("old_password", ""), new)
    except AuthenticationError:
        return _account_page("Bisheriges Passwort ist falsch.", None, 400)
    except MatcherError as exc:
        return _account_page(exc.message, None, 400)
    session["pwv"] = updated.password_changed_at  # this session stays, others end
    return _account_page(None, "Passwort geändert.")


def _account_page(error: str | None, done: str | None, status: int = 200):
    from webapp.intros_views import account_summary

    return render_template("account.html", error=error, done=done,
                           summary=account_summary()), status
