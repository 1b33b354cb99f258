from __future__ import annotations

import json

import pytest

from matcher.cli import cli
from matcher.evaluation import evaluate, half_of, load_eval_set
from matcher.ingest import ingest_files
from matcher.rankers import make_rankers
from matcher.settings import load_settings
from tests.conftest import FIXTURES, PROFILES

EVAL = FIXTURES / "eval"


@pytest.fixture
def loaded(store, gazetteer):
    ingest_files(store, [PROFILES], gazetteer)
    return store


def test_keyword_eval_groups_and_filters(loaded, gazetteer):
    settings = load_settings(environ={})
    rank, rank_profile = make_rankers("keyword", loaded, settings)
    report = evaluate("keyword", load_eval_set(EVAL), rank, rank_profile, loaded.get, gazetteer,
                      settings.regions)
    groups = report.as_dict()["groups"]
    assert groups["all"]["n"] == 3 and groups["place"]["n"] == 2 and groups["kinds"]["n"] == 1
    assert groups["partners"]["n"] == 1
    # f2 is the tuning half, f1, f3 and fp1 the held-out half
    assert groups["tuning"]["n"] == 1 and groups["held_out"]["n"] == 2
    assert groups["partners_held_out"]["n"] == 1 and "partners_tuning" not in groups
    assert 0 < groups["all"]["ndcg@10"] <= 1
    # the kinds/radius query can only return chairs or researchers within 60 km of Görlitz
    ranked = rank("Wasserstoff Elektrolyse", _filters_of(report, gazetteer, settings))
    assert set(ranked) <= {"t-rs-03", "t-ch-03"}


def _filters_of(report, gazetteer, settings):
    from matcher.evaluation import query_filters

    q = next(q for q in load_eval_set(EVAL).queries if q.id == "f2")
    return query_filters(q, gazetteer, settings.regions)


def test_eval_cli_table_and_json(runner, data_dir):
    runner.invoke(cli, ["--data-dir", str(data_dir), "ingest", str(PROFILES)])
    table = runner.invoke(cli, ["--data-dir", str(data_dir), "eval", "--set", str(EVAL)])
    assert table.exit_code == 0 and "nDCG@10" in table.output and "partners" in table.output
    js = runner.invoke(cli, ["--data-dir", str(data_dir), "eval", "--set", str(EVAL), "--json",
                             "--per-query"])
    data = json.loads(js.stdout)
    assert data["method"] == "keyword" and set(data["per_query_ndcg@10"]) == {"f1", "f2", "f3",
                                                                              "fp1"}
    bad = runner.invoke(cli, ["--data-dir", str(data_dir), "eval", "--set", str(EVAL),
                              "--method", "orakel"])
    assert bad.exit_code == 1 and "keyword" in bad.output


@pytest.mark.parametrize(("case_id", "half"), [("q002", "tuning"), ("q001", "held_out"),
                                              ("p036", "tuning"), ("p037", "held_out"),
                                              ("f2", "tuning"), ("ohne", "held_out")])
def test_half_of_splits_by_the_number_in_the_id(case_id, half):
    assert half_of(case_id) == half
