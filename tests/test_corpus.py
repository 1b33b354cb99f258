"""The bundled demo corpus and evaluation set are valid and consistent."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from matcher.districts import DISTRICTS
from matcher.evaluation import load_eval_set, query_filters
from matcher.filters import ProfileTable
from matcher.ingest import ingest_files
from matcher.models import KINDS
from matcher.settings import load_settings
from tests.conftest import ROOT

CORPUS = ROOT / "corpora" / "saxony"


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory, gazetteer):
    from matcher.store import Store

    store = Store(tmp_path_factory.mktemp("korpus"))
    report = ingest_files(store, sorted(CORPUS.glob("*.jsonl")), gazetteer)
    yield store, report
    store.close()


def test_corpus_imports_without_warning_or_reject(corpus_store):
    store, report = corpus_store
    assert not report.rejected and not report.warnings
    stats = store.stats()
    assert set(stats["by_kind"]) == set(KINDS)
    assert set(stats["by_district"]) == {d.name for d in DISTRICTS}
    kinds = stats["by_kind"]
    assert kinds["company"] >= 250 and kinds["startup"] >= 40 and kinds["chair"] >= 60
    assert kinds["researcher"] >= 150 and kinds["offering"] >= 60 and kinds["tgz"] >= 10


def test_researchers_are_mostly_young_and_names_unique(corpus_store):
    store, _ = corpus_store
    people = [p for _, p in store.iter_profiles(["researcher"])]
    stages = Counter(p.career_stage for p in people)
    assert stages["professor"] < 0.2 * len(people)
    assert all(p.parent for p in people)
    names = Counter(p.name for p in people)
    assert names.most_common(1)[0][1] == 1, names.most_common(3)


def test_every_district_has_smes(corpus_store):
    store, _ = corpus_store
    smes = Counter(p.district for _, p in store.iter_profiles(["company", "startup"]))
    assert all(smes[d.name] >= 5 for d in DISTRICTS)


def test_eval_set_ids_exist_and_respect_filters(corpus_store, gazetteer):
    store, _ = corpus_store
    eval_set = load_eval_set(ROOT / "corpora" / "eval")
    assert len(eval_set.queries) >= 60 and len(eval_set.partners) >= 30
    assert len(eval_set.slam) == 13
    groups = Counter(q.group for q in eval_set.queries)
    assert set(groups) == {"sme", "manager", "organiser"}
    judgments_are_valid(eval_set, store, gazetteer)
    for case in eval_set.partners:
        assert store.get(case.profile).kind == "company"
        assert case.profile not in case.judgments
    for row in eval_set.slam:
        for pid in row["researchers"]:
            p = store.get(pid)
            assert p.kind == "researcher" and p.career_stage != "professor"


def test_fresh_eval_set_ids_exist_and_respect_filters(corpus_store, gazetteer):
    store, _ = corpus_store
    fresh = load_eval_set(ROOT / "corpora" / "eval-fresh")
    assert len(fresh.queries) >= 20 and not fresh.partners and not fresh.slam
    assert {q.group for q in fresh.queries} == {"sme"}
    judgments_are_valid(fresh, store, gazetteer)


def judgments_are_valid(eval_set, store, gazetteer) -> None:
    """Every query has judgments; each judged profile exists, has a grade 1–3 and passes the
    query's filters."""
    table = ProfileTable(store.table_rows())
    regions = load_settings(environ={}).regions
    for q in eval_set.queries:
        assert q.judgments, q.id
        ok = table.mask(query_filters(q, gazetteer, regions))
        for pid, grade in q.judgments.items():
            assert grade in (1, 2, 3) and ok[table.pos[pid]], (q.id, pid)


def test_corpus_lines_are_readable_utf8():
    for path in CORPUS.glob("*.jsonl"):
        text = path.read_text(encoding="utf-8")
        assert "\\u00" not in text, path
        for line in text.splitlines():
            json.loads(line)
