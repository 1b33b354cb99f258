"""Walks every GET page, API endpoint and export of the app (discovered from ``app.url_map``)
for the leak and erasure tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Flask
from werkzeug.routing import Rule

SKIP_ENDPOINTS = {"static"}


def get_rules(app: Flask) -> list[Rule]:
    """Every rule answering GET, except static files, in a stable order."""
    rules = [r for r in app.url_map.iter_rules()
             if "GET" in (r.methods or ()) and r.endpoint not in SKIP_ENDPOINTS]
    return sorted(rules, key=lambda r: (r.rule, r.endpoint))


@dataclass
class Page:
    url: str
    status: int
    body: str


def urls(app: Flask, rule: Rule, values: Mapping[str, Sequence[str]],
         queries: Sequence[Mapping[str, str]]) -> list[str]:
    """Concrete URLs of a rule: every combination of the values for its arguments, each bare and
    with every query string (endpoints ignore parameters they do not know)."""
    adapter = app.url_map.bind("localhost")
    names = sorted(rule.arguments)
    missing = [n for n in names if n not in values]
    if missing:
        raise AssertionError(f"{rule.rule}: keine Testwerte für {missing}")
    out = []
    for combo in itertools.product(*(values[n] for n in names)):
        base = adapter.build(rule.endpoint, dict(zip(names, combo, strict=True)),
                             append_unknown=False)
        out.append(base)
        out += [f"{base}?{urlencode(q)}" for q in queries]
    return out


def walk(client, app: Flask, values: Mapping[str, Sequence[str]],
         queries: Sequence[Mapping[str, str]], rules: Sequence[Rule] | None = None,
         ) -> Iterator[Page]:
    """GET every URL of the rules (default: all) and yield status and decoded body."""
    for rule in rules if rules is not None else get_rules(app):
        for url in urls(app, rule, values, queries):
            resp = client.get(url)
            yield Page(url, resp.status_code, resp.get_data(as_text=True))


def found(pages: Sequence[Page], *needles: str) -> list[str]:
    """``url: needle`` for every page whose body contains a needle (case-insensitive)."""
    lowered = [n.lower() for n in needles]
    return [f"{p.url} [{p.status}]: {n}" for p in pages for n in lowered if n in p.body.lower()]
