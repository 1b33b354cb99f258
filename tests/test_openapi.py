"""The OpenAPI document validates, documents every API route, and schemathesis finds no 5xx and
no response that violates it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from openapi_spec_validator import validate
from schemathesis import GenerationMode, checks
from schemathesis.specs.openapi import checks as oa_checks

from matcher.indexer import build_index
from matcher.ingest import ingest_files
from matcher.settings import load_settings
from matcher.store import Store
from tests.conftest import PROFILES
from webapp import create_app
from webapp.openapi import spec

EXAMPLES = 300  # at most, per operation and mode (one without parameters gives fewer)


def _app(data_dir: Path):
    settings = load_settings({"data_dir": str(data_dir), "embedder": "hashing",
                              "sentence_embedder": "hashing"}, environ={})
    from matcher.geo import load_gazetteer

    with Store(data_dir) as store:
        ingest_files(store, [PROFILES], load_gazetteer())
        build_index(store, settings)
    return create_app({"data_dir": str(data_dir), "embedder": "hashing",
                       "sentence_embedder": "hashing", "TESTING": True})


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return _app(tmp_path_factory.mktemp("openapi") / "instance")


def test_document_is_valid_openapi(app):
    doc = app.test_client().get("/api/openapi.json")
    assert doc.status_code == 200
    validate(json.loads(doc.data))


def test_every_api_route_is_documented(app):
    spec = app.test_client().get("/api/openapi.json").get_json()
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/") or rule.rule == "/healthz"):
            continue
        if rule.rule == "/api/openapi.json":
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        for part in ("{path:", "{int:", "{string:"):
            path = path.replace(part, "{")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, f"{method} {path} fehlt in openapi.json"


CHECKS = [checks.not_a_server_error, oa_checks.status_code_conformance,
          oa_checks.content_type_conformance, oa_checks.response_schema_conformance]
# Negative cases (requests that break the schema) only where there is a parameter to break.
OPERATIONS = [(path, method, mode) for path, ops in spec()["paths"].items()
              for method, op in ops.items()
              for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
              if mode == GenerationMode.POSITIVE or op.get("parameters")]


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


@pytest.mark.slow
def test_api_conforms_to_its_document(app, api_schema):
    """Over 10,000 generated requests to every documented operation (valid ones, and ones that
    break the schema) never get a 5xx, every response has a documented status, content type and
    body shape, and nothing is written (no request carries a token)."""
    store_dir = app.config["MATCHER_SETTINGS"].data_dir
    with Store(store_dir) as store:
        before = store.corpus_digest()
    calls: Counter[str] = Counter()

    def fuzz(label: str, mode: GenerationMode) -> None:
        operation = api_schema.find_operation_by_label(label)

        @hyp_settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case):
            calls[label] += 1
            case.call_and_validate(checks=CHECKS)

        run()

    for path, method, mode in OPERATIONS:
        fuzz(f"{method.upper()} {path}", mode)
    assert sum(calls.values()) >= 10_000, calls
    assert len(calls) == len({(p, m) for p, m, _ in OPERATIONS})  # every operation was called
    with Store(store_dir) as store:
        assert store.corpus_digest() == before
