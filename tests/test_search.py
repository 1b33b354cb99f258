from __future__ import annotations

import json

import pytest

from matcher.cli import cli
from matcher.errors import MatcherError, NotFoundError
from matcher.geo import distance_km
from matcher.indexer import build_index
from matcher.ingest import ingest_files
from matcher.search import Matcher


def add(store, gazetteer, tmp_path, records, name="extra.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records),
                    encoding="utf-8")
    ingest_files(store, [path], gazetteer)


@pytest.fixture
def matcher(indexed_store, settings, gazetteer):
    return Matcher(indexed_store, settings, gazetteer)


def ids(result):
    return [m.profile.id for m in result.matches]


def test_text_match_parses_and_explains(matcher):
    r = matcher.match_text("Chrom(VI)-freie Hartverchromung für Galvanik in der Nähe von Freiberg")
    assert r.parsed.place.name == "Freiberg" and "Ort: Freiberg" in r.parsed.interpretation()
    top = r.matches[0]
    assert top.profile.id in {"t-ch-02", "t-rs-02", "t-co-07"}
    why = top.as_dict()["why"]
    assert why["need_offer"] and why["need_offer"][0]["offer"]
    assert "km" in why["summary"] and set(why["signals"]) >= {"thema", "naehe", "art"}
    assert 0 <= top.score <= 100


def test_radius_is_a_hard_filter(matcher, gazetteer):
    freiberg = gazetteer.resolve("Freiberg")
    r = matcher.match_text("Schweißen Galvanik Wasserstoff Sensorik", near="Freiberg",
                           radius_km=30, limit=50)
    assert r.matches
    for m in r.matches:
        assert distance_km(freiberg.lat, freiberg.lon, m.profile.lat, m.profile.lon) <= 30


def test_far_perfect_partner_still_found_without_radius(matcher):
    # Görlitz/Zittau hydrogen group is ~150 km from Plauen; nothing near Plauen is relevant.
    r = matcher.match_text("Wartung von Elektrolyseuren für Wasserstoff", near="Plauen", limit=3)
    assert {"t-rs-03", "t-ch-03"} & set(ids(r))
    assert r.matches[0].distance_km > 80


def test_explicit_options_win_over_parsed(matcher):
    r = matcher.match_text("Lehrstuhl Galvanik in Chemnitz", near="Freiberg", kinds=["researcher"])
    assert r.parsed.place.name == "Freiberg" and r.parsed.kinds == ("researcher",)
    assert all(m.profile.kind == "researcher" for m in r.matches)


def test_profile_match_excludes_self_own_organisation_and_hidden(indexed_store, settings,
                                                                   gazetteer, tmp_path):
    add(indexed_store, gazetteer, tmp_path, [
        {"id": "t-ch-09", "kind": "chair", "name": "Professur Schweißtechnik", "city": "Chemnitz",
         "institution": "TU Chemnitz", "description": "Schweißen von Edelstahl."},
        {"id": "t-rs-04", "kind": "researcher", "name": "Paul Kaiser", "parent": "t-ch-09",
         "institution": "TU Chemnitz", "city": "Chemnitz", "career_stage": "doctoral",
         "description": "Laserstrahlschweißen von Edelstahl ohne Verzug."},
        {"id": "t-rs-05", "kind": "researcher", "name": "Ida Roth", "parent": "t-ch-01",
         "institution": "TU Chemnitz", "city": "Chemnitz", "career_stage": "postdoc",
         "description": "Laserstrahlschweißen von Edelstahl ohne Verzug, dünne Bleche."},
        {"id": "t-hid", "kind": "chair", "name": "Verborgene Professur", "city": "Dresden",
         "description": "Laserstrahlschweißen dünner Edelstahlbleche ohne Verzug.",
         "visibility": "hidden"},
    ])
    build_index(indexed_store, settings)
    m = Matcher(indexed_store, settings, gazetteer)
    found = ids(m.match_profile("t-rs-01", limit=50, logged_in=True))
    assert "t-rs-01" not in found and "t-ch-01" not in found and "t-rs-05" not in found
    assert "t-rs-04" not in found and "t-hid" not in found
    asked = ids(m.match_profile("t-rs-01", limit=50, same_institution=True))
    assert "t-rs-04" in asked and "t-rs-05" not in asked
    company = ids(m.match_profile("t-co-01", limit=50))
    assert "t-hid" not in company and "t-co-01" not in company


def test_internal_profiles_only_for_logged_in(matcher):
    text = "Geigen Bratschen akustische Vermessung Streichinstrumente"
    assert "t-co-08" not in ids(matcher.match_text(text, limit=50))
    assert "t-co-08" in ids(matcher.match_text(text, limit=50, logged_in=True))
    with pytest.raises(NotFoundError):
        matcher.match_profile("t-co-08")
    assert matcher.match_profile("t-co-08", logged_in=True).source.id == "t-co-08"


def test_diversity_caps_one_organisation(indexed_store, settings, gazetteer, tmp_path):
    add(indexed_store, gazetteer, tmp_path, [
        {"id": f"t-rs-1{i}", "kind": "researcher", "name": f"Forscher {i}", "parent": "t-ch-02",
         "institution": "TU Bergakademie Freiberg", "city": "Freiberg",
         "description": f"Chrom(VI)-freie Galvanik und Hartverchromung, Variante {i}."}
        for i in range(6)])
    build_index(indexed_store, settings)
    m = Matcher(indexed_store, settings, gazetteer)
    r = m.match_text("Chrom(VI)-freie Galvanik Hartverchromung", kinds=["researcher"], limit=5)
    parents = [x.profile.parent for x in r.matches]
    assert parents.count("t-ch-02") <= settings.max_per_group + (5 - len(set(parents)))
    loose = Matcher(indexed_store, settings.replace(max_per_group=10), gazetteer)
    r2 = loose.match_text("Chrom(VI)-freie Galvanik Hartverchromung", kinds=["researcher"],
                          limit=5)
    assert [x.profile.parent for x in r2.matches].count("t-ch-02") > parents.count("t-ch-02")


def test_pagination_and_empty_request(matcher):
    first = ids(matcher.match_text("Schweißen Galvanik Sensorik", limit=3))
    second = ids(matcher.match_text("Schweißen Galvanik Sensorik", limit=3, offset=3))
    assert not set(first) & set(second)
    with pytest.raises(MatcherError):
        matcher.match_text("   ")


def test_json_contract_and_table(runner, indexed_store, data_dir):
    out = runner.invoke(cli, ["--data-dir", str(data_dir), "match", "--text",
                              "Wasserstoff Elektrolyse", "--near", "Görlitz", "--json"],
                        env={"MATCHER_EMBEDDER": "hashing", "MATCHER_SENTENCE_EMBEDDER": "hashing"})
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert isinstance(rows, list) and rows
    for row in rows:
        assert {"id", "kind", "name", "city", "district", "score", "distance_km", "why"} <= set(row)
        assert {"need_offer", "terms", "summary"} <= set(row["why"])
        assert "email" not in row and "phone" not in row
    table = runner.invoke(cli, ["--data-dir", str(data_dir), "match", "--profile", "t-co-05"],
                          env={"MATCHER_EMBEDDER": "hashing",
                               "MATCHER_SENTENCE_EMBEDDER": "hashing"})
    assert table.exit_code == 0 and "Partner für Lausitzer Energieservice" in table.output
    assert "/100" in table.output
    bad = runner.invoke(cli, ["--data-dir", str(data_dir), "match", "--text", "x", "--kinds",
                              "fabrik"])
    assert bad.exit_code == 2 and "fabrik" in bad.output


def test_calibration_is_monotone(matcher):
    mid = matcher.settings.score_midpoint
    scores = [matcher.calibrate(x) for x in (0.3, 0.6, mid, 0.9, 1.2)]
    assert scores == sorted(scores) and scores[2] == 50 and scores[0] >= 0 and scores[-1] <= 100
    # the partners of a profile have their own midpoint (higher keyword weight)
    assert matcher.calibrate(matcher.settings.profile_score_midpoint, for_profile=True) == 50
    assert matcher.calibrate(mid, for_profile=True) < 50 < matcher.calibrate(
        matcher.settings.profile_score_midpoint)


def test_profile_matching_weighs_keywords_with_its_own_setting(indexed_store, settings,
                                                               gazetteer):
    def keyword_signals(result):
        return [m.explanation.signals["stichworte"] for m in result.matches]

    base = settings.replace(sparse_weight=0.5)
    plain = Matcher(indexed_store, base.replace(profile_sparse_weight=0.5), gazetteer)
    heavy = Matcher(indexed_store, base.replace(profile_sparse_weight=2.0), gazetteer)
    off = Matcher(indexed_store, base.replace(profile_sparse_weight=0), gazetteer)
    assert all(v == 0 for v in keyword_signals(off.match_profile("t-co-01", limit=50)))
    by_id = {m.profile.id: m.explanation.signals["stichworte"]
             for m in plain.match_profile("t-co-01", limit=50).matches}
    for m in heavy.match_profile("t-co-01", limit=50).matches:
        # signals are rounded to 3 decimals
        assert m.explanation.signals["stichworte"] == pytest.approx(4 * by_id[m.profile.id],
                                                                  abs=5e-3)
    assert max(by_id.values()) > 0
    # a free-text request keeps sparse_weight
    text = "Laserstrahlschweißen dünner Edelstahlbleche ohne Verzug"
    assert keyword_signals(off.match_text(text, limit=10)) == keyword_signals(
        plain.match_text(text, limit=10))


def test_matcher_limits_blas_to_query_threads(indexed_store, settings, gazetteer):
    from threadpoolctl import threadpool_info, threadpool_limits

    with threadpool_limits(limits=None):  # restore the process's BLAS threads afterwards
        Matcher(indexed_store, settings, gazetteer)
        blas = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    assert blas and set(blas) == {int(settings.query_threads)} == {1}


def test_a_request_searches_faiss_with_query_threads(matcher):
    import threading

    import faiss

    seen: list[int] = []

    def request() -> None:  # a fresh thread, as a server's worker
        matcher.match_text("Laserschweißen von Edelstahl")
        seen.append(faiss.omp_get_max_threads())

    worker = threading.Thread(target=request)
    worker.start()
    worker.join()
    assert seen == [int(matcher.settings.query_threads)] == [1]


def test_pruned_sparse_candidates_keep_exact_keyword_scores(indexed_store, settings, gazetteer):
    """Leaving common n-grams out of the sparse candidate run changes which profiles are
    candidates at most; every candidate is still ranked with its exact keyword score."""
    import numpy as np

    from matcher.text import analyze

    exact = Matcher(indexed_store, settings, gazetteer)
    pruned = Matcher(indexed_store, settings.replace(sparse_candidate_max_df=0.3), gazetteer)
    text = "Laserschweißen dünner Edelstahlbleche und Galvanik"
    lower = pruned.index.sparse.scores(analyze(text), 0.3)
    full = exact.index.sparse.scores(analyze(text))
    assert (lower <= full + 1e-6).all() and (lower < full - 1e-6).any()  # n-grams were left out
    for request in (lambda m: m.match_text(text, limit=20),
                    lambda m: m.match_profile("t-co-01", limit=20)):
        a, b = request(exact), request(pruned)  # 20 profiles: every one is a candidate
        assert [x.profile.id for x in a.matches] == [x.profile.id for x in b.matches]
        # (the same sums, added up in another order)
        assert np.allclose([x.raw for x in a.matches], [x.raw for x in b.matches], atol=1e-5)


def test_common_ngrams_are_those_in_more_than_the_share_of_fitted_rows():
    import numpy as np

    from matcher.index.sparse import SparseIndex

    texts = ["schweißen von blech", "schweißen von stahl", "lackieren von holz",
             "galvanik und chrom", "schweißen und lackieren"]
    sparse = SparseIndex()
    sparse.fit(np.arange(len(texts)), texts)
    vocab = sparse._vectorizer.vocabulary_
    df = {g: sum(g in f" {t} " for t in texts) for g in vocab}  # char_wb n-grams
    for share in (0.2, 0.4, 0.6):
        common = sparse._common(share)
        assert {g for g, i in vocab.items() if common[i]} == {
            g for g, n in df.items() if n > share * len(texts)}


def test_positions_of_ids_without_a_dictionary():
    import numpy as np

    from matcher.search import _positions

    ids = np.array([40, 10, 30, 20], dtype=np.int64)
    assert _positions(ids, np.array([10, 99, 40, 20, 5])).tolist() == [1, -1, 0, 3, -1]
    assert _positions(np.zeros(0, dtype=np.int64), np.array([1])).tolist() == [-1]
    assert _positions(ids, np.zeros(0, dtype=np.int64)).tolist() == []


def test_clear_caches_makes_the_next_request_do_all_its_work(matcher):
    from matcher import text as text_mod

    query = "Chrom(VI)-freie Hartverchromung für Galvanik in der Nähe von Freiberg"
    first = matcher.match_text(query)
    assert len(matcher.encode_doc._cache) and text_mod.analyze.cache_info().currsize
    assert len(matcher.index.sparse._queries)
    matcher.clear_caches()
    assert not len(matcher.encode_doc._cache) and not len(matcher.encode_sent._cache)
    assert text_mod.analyze.cache_info().currsize == 0
    assert text_mod._key_terms.cache_info().currsize == 0
    assert not len(matcher.index.sparse._queries)
    again = matcher.match_text(query)
    assert [(m.profile.id, m.score) for m in again.matches] == \
        [(m.profile.id, m.score) for m in first.matches]
