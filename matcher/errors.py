"""The one exception hierarchy of matcher.

Library code raises these; only the CLI and the HTTP layer turn them into messages.
Messages are German and say what to do.
"""

from __future__ import annotations

from dataclasses import dataclass


class MatcherError(Exception):
    """Base class of every error matcher raises on purpose."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(MatcherError):
    """A setting has an invalid value."""


class MissingPackageError(ConfigError):
    """An optional backend's package is not installed; the message names it."""


class NotFoundError(MatcherError):
    """A profile, region or other named object does not exist."""

    status = 404


class PlaceError(MatcherError):
    """A place name could not be resolved to exactly one place."""

    def __init__(self, message: str, candidates: list[str] | None = None) -> None:
        super().__init__(message)
        self.candidates = candidates or []


class UnknownPlaceError(PlaceError):
    """No place of that name is known."""


class AmbiguousPlaceError(PlaceError):
    """Several places share the name; the candidates say which."""


class InputFileError(MatcherError):
    """A whole input file cannot be read (encoding, format)."""


@dataclass(frozen=True)
class Problem:
    """One invalid field of one record: ``file:line: field: message``."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class ValidationError(MatcherError):
    """One or more records are invalid; ``problems`` lists every one."""

    def __init__(self, problems: list[Problem], summary: str | None = None) -> None:
        self.problems = problems
        text = summary or f"{len(problems)} ungültige Angabe(n)"
        super().__init__(text + ":\n" + "\n".join(str(p) for p in problems))


class IndexStateError(MatcherError):
    """A saved index is missing, stale or built with another model."""

    status = 503


class AuthenticationError(MatcherError):
    """Not logged in, or the user name or password is wrong."""

    status = 401


class ForbiddenError(MatcherError):
    """Logged in, but the role or ownership does not permit the action."""

    status = 403


class ConflictError(MatcherError):
    """The object already exists or its state does not allow the change."""

    status = 409


class TooManyAttemptsError(MatcherError):
    """Too many failed attempts in a short time; the message says when to retry."""

    status = 429
