"""One JSON error shape for the API, German error pages for HTML."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from matcher.errors import MatcherError


def error_response(message: str, status: int):
    if request.path.startswith("/api") or request.path == "/healthz":
        return jsonify({"ok": False, "error": message, "status": status}), status
    return render_template("error.html", message=message, status=status), status


def register(app: Flask) -> None:
    @app.errorhandler(MatcherError)
    def matcher_error(exc: MatcherError):
        return error_response(exc.message, exc.status)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return error_response(exc.description or exc.name, exc.code or 500)
