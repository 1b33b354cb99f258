"""HTTP hardening: security headers, request limits, a guard against malformed parameters, German
texts for the standard HTTP errors, and a catch-all that never shows internals.

Every response carries a Content-Security-Policy without inline scripts or styles. The one
exception is the printable Inno Slam programme, a self-contained download whose own ``<style>``
block is allowed by its hash (never by ``'unsafe-inline'``).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    MethodNotAllowed,
    NotFound,
    RequestEntityTooLarge,
    RequestURITooLarge,
    UnsupportedMediaType,
)
from werkzeug.routing import IntegerConverter

from matcher.errors import MatcherError
from matcher.models import has_lone_surrogate
from webapp.errors import error_response

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
MAX_CONTENT_LENGTH = 10 * 1024 * 1024  # request bodies (JSON, forms, uploads)
MAX_QUERY_BYTES = 8 * 1024  # the raw query string
# Downloads that are self-contained HTML documents with their own <style> block.
SELF_CONTAINED_HTML = frozenset({"slam.export"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_STYLE_BLOCK = re.compile(rb"<style[^>]*>(.*?)</style>", re.S | re.I)
GERMAN = {
    BadRequest: "Ungültige Anfrage — bitte die Angaben prüfen.",
    NotFound: "Diese Seite gibt es nicht — bitte die Adresse prüfen.",
    MethodNotAllowed: "Diese Methode ist hier nicht erlaubt.",
    RequestURITooLarge: "Die Adresse ist zu lang — bitte kürzere Angaben machen.",
    UnsupportedMediaType: "Falscher Inhaltstyp — bitte JSON mit Content-Type "
                          "application/json senden.",
}
log = logging.getLogger(__name__)


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` path segments only up to SQLite's largest integer (larger ones: 404)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


class BadInputError(MatcherError):
    """A request's parameters cannot be read (too long, not UTF-8, control characters)."""


def too_large_message() -> str:
    limit = int(current_app.config.get("MAX_CONTENT_LENGTH") or MAX_CONTENT_LENGTH)
    size = (f"{limit / 2**20:.0f} MB" if limit >= 2**20 else
            f"{limit / 2**10:.0f} KB" if limit >= 2**10 else f"{limit} Byte")
    return (f"Anfrage zu groß (höchstens {size}) — bitte weniger Daten auf einmal senden, "
            "z. B. die Importdatei aufteilen.")


def check_request() -> None:
    """Reject unreadable requests before any view sees them.

    Raises:
        BadInputError: query too long, not UTF-8, or with control characters (400).
        RequestEntityTooLarge: the declared body exceeds ``MAX_CONTENT_LENGTH`` (413).
    """
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()
    _check_json_body()
    raw = request.query_string
    if len(raw) > MAX_QUERY_BYTES:
        raise BadInputError(f"Die Parameter sind zu lang (höchstens {MAX_QUERY_BYTES} Zeichen) "
                            "— bitte kürzere Angaben machen.")
    path = request.environ.get("PATH_INFO", "")
    try:
        unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
        path.encode("latin-1").decode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError):
        raise BadInputError("Adresse oder Parameter sind nicht UTF-8-kodiert — bitte "
                            "Sonderzeichen wie ä als %C3%A4 senden.") from None
    if _CONTROL.search(path):
        raise BadInputError("Die Adresse enthält Steuerzeichen — bitte entfernen.")
    for key, values in request.args.lists():
        for value in (key, *values):
            if _CONTROL.search(value):
                raise BadInputError(f"Parameter {key[:40]!r} enthält Steuerzeichen (z. B. NUL) "
                                    "— bitte entfernen.")


def _check_json_body() -> None:
    """A JSON body that parses to text which cannot be stored is refused here, for every view
    (a body that does not parse at all is left to the view's own message)."""
    if not request.is_json or not request.content_length:
        return
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise BadInputError("Der JSON-Inhalt ist zu tief verschachtelt.") from None
    if body is not None and has_lone_surrogate(body):
        raise BadInputError("Der JSON-Inhalt enthält ein ungültiges Unicode-Escape (einzelnes "
                            "Surrogat wie \\ud800) — bitte den Text korrekt als UTF-8 senden.")


def _style_hashes(body: bytes) -> list[str]:
    return ["'sha256-" + base64.b64encode(hashlib.sha256(block).digest()).decode() + "'"
            for block in _STYLE_BLOCK.findall(body)]


def add_headers(response: Response) -> Response:
    """Security headers on every response (a view may set its own stricter CSP)."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    csp = CSP
    if (request.endpoint in SELF_CONTAINED_HTML and response.mimetype == "text/html"
            and not response.direct_passthrough):
        hashes = _style_hashes(response.get_data())
        if hashes:
            csp = csp.replace("style-src 'self'", "style-src 'self' " + " ".join(hashes))
    response.headers.setdefault("Content-Security-Policy", csp)
    return response


def _german(exc: HTTPException):
    """Standard HTTP errors in German; a specific description given by a view is kept."""
    text = exc.description
    if text is None or text == type(exc).description:
        text = next((msg for cls, msg in GERMAN.items() if isinstance(exc, cls)), exc.name)
    return error_response(text, exc.code or 400)


def _too_large(exc: RequestEntityTooLarge):
    """413 with the limit in German (a view's own, smaller limit message is kept)."""
    own = exc.description not in (None, RequestEntityTooLarge.description)
    return error_response(str(exc.description) if own else too_large_message(), 413)


def _unexpected(exc: Exception):
    """Any other exception: logged with its traceback, answered with a generic 500."""
    if current_app.config.get("PROPAGATE_EXCEPTIONS") or (
            current_app.config.get("PROPAGATE_EXCEPTIONS") is None
            and (current_app.testing or current_app.debug)):
        raise exc
    log.exception("Unerwarteter Fehler bei %s %s", request.method, request.path)
    message = "Interner Fehler — bitte später erneut versuchen. Der Fehler wurde protokolliert."
    try:
        return error_response(message, 500)
    except Exception:  # the error page itself failed (e.g. the database is unavailable)
        log.exception("Fehlerseite konnte nicht erzeugt werden")
        return Response(message, status=500, mimetype="text/plain")


def register(app: Flask) -> None:
    """Install limits, the request guard, security headers and the error handlers."""
    app.url_map.converters["int"] = BoundedIntConverter  # before the blueprints' rules
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    app.before_request(check_request)
    app.after_request(add_headers)
    for cls in GERMAN:
        app.register_error_handler(cls, _german)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(Exception, _unexpected)
