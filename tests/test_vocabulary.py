"""The problem vocabulary: triggers, expansion, file validation and its use in text matching."""

from __future__ import annotations

import json

import numpy as np
import pytest

from matcher.errors import InputFileError, ValidationError
from matcher.indexer import build_index
from matcher.ingest import ingest_files
from matcher.search import Matcher
from matcher.vocabulary import field_vectors, load_vocabulary, parse_vocabulary

WELDING = {"field": "Schweißverzug", "triggers": ["verzieh", "krumm schweiß"],
           "terms": ["Schweißverzug", "Wärmeeintrag", "Laserstrahlschweißen"]}
TOOLS = {"field": "Werkzeugbruch", "triggers": ["meißel bricht", "fräser bricht"],
         "terms": ["Werkzeugbruch", "Prozessüberwachung", "Laserstrahlschweißen"]}


def lines(*records: object) -> str:
    return "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)
                     for r in records)


def test_triggers_fire_inside_compounds_and_inflections_with_ss_for_sz():
    vocab = parse_vocabulary(lines(WELDING, TOOLS), "v.jsonl")
    assert [f.name for f in vocab.fields_for("Das Blech verzieht sich jedesmal")] == [
        "Schweißverzug"]
    # all stems of a trigger must occur, in any order, ß written as ss or ß
    assert [f.name for f in vocab.fields_for("Nach dem Schweissen ist alles krumm")] == [
        "Schweißverzug"]
    assert vocab.fields_for("Der Rahmen ist krumm") == []
    assert [f.name for f in vocab.fields_for("Unsere Drehmeißel: einer bricht nachts")] == [
        "Werkzeugbruch"]
    assert vocab.fields_for("Wir suchen Partner für die Digitalisierung") == []
    assert vocab.fields_for("") == []


def test_expansion_lists_each_term_once_in_field_order():
    vocab = parse_vocabulary(lines(WELDING, TOOLS), "v.jsonl")
    fields = vocab.fields_for("Der Fräser bricht, das Blech verzieht sich")
    assert [f.name for f in fields] == ["Schweißverzug", "Werkzeugbruch"]
    assert vocab.expansion(fields) == ("Schweißverzug, Wärmeeintrag, Laserstrahlschweißen, "
                                       "Werkzeugbruch, Prozessüberwachung")
    assert vocab.expansion([]) == ""


def test_every_invalid_line_is_reported_with_line_field_and_what_to_do():
    text = lines(
        WELDING,
        "{kein json",
        {"field": "Ohne Begriffe", "triggers": ["klebt"]},
        {"field": "Kurz", "triggers": ["rot"], "terms": ["Korrosion"], "extra": 1},
        {"field": "Zu viele", "triggers": ["eins zwei drei vier"], "terms": ["X"]},
        {"field": "Zeichen", "triggers": ["öl|wasser"], "terms": ["Emulsion"]},
        {"field": "Schweißverzug", "triggers": ["verzug"], "terms": ["Schweißverzug"]},
        {"field": "Leer", "triggers": [], "terms": ["X"]},
        ["kein", "objekt"],
    )
    with pytest.raises(ValidationError) as caught:
        parse_vocabulary(text, "vocab.jsonl")
    found = {(p.line, p.field) for p in caught.value.problems}
    assert {(2, "-"), (3, "terms"), (4, "extra"), (4, "triggers"), (5, "triggers"),
            (6, "triggers"), (7, "field"), (8, "triggers"), (9, "-")} <= found
    assert (1, "field") not in found
    message = caught.value.message
    assert "vocab.jsonl:4: triggers: „rot“: Wortstamm „rot“ ist kürzer als 4 Zeichen" in message
    assert "vocab.jsonl:7: field: „Schweißverzug“ steht schon in einer früheren Zeile" in message
    assert "vocab.jsonl:3: terms: Feld fehlt" in message


def test_an_unreadable_file_names_the_setting(tmp_path):
    with pytest.raises(InputFileError, match="vocabulary_file"):
        load_vocabulary(str(tmp_path / "fehlt.jsonl"))
    latin = tmp_path / "latin1.jsonl"
    latin.write_bytes(json.dumps(WELDING, ensure_ascii=False).encode("latin-1"))
    with pytest.raises(InputFileError, match="UTF-8"):
        load_vocabulary(str(latin))


def test_the_bundled_vocabulary_is_valid_and_maps_everyday_words_to_field_terms():
    vocab = load_vocabulary("")
    assert len(vocab.fields) >= 100
    for f in vocab.fields:
        assert f.triggers and f.terms
        assert all(len(stem) >= 4 for t in f.triggers for stem in t)
    # an everyday request fires at least one field, a request without a problem none
    assert vocab.fields_for("Die Pulverbeschichtung blättert nach dem Winter ab")
    assert vocab.fields_for("Wir laden Sie herzlich zu unserem Sommerfest ein") == []


@pytest.fixture
def welding_store(indexed_store, settings, gazetteer, tmp_path):
    path = tmp_path / "welding.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"id": "t-ch-30", "kind": "chair", "name": "Professur für Strahltechnik",
         "institution": "TU Dresden", "city": "Dresden",
         "description": "Laserstrahlschweißen mit geringem Wärmeeintrag gegen Schweißverzug."},
    ]), encoding="utf-8")
    ingest_files(indexed_store, [path], gazetteer)
    build_index(indexed_store, settings)
    return indexed_store


def test_a_symptom_request_is_searched_with_the_fields_terms(welding_store, settings, gazetteer,
                                                              tmp_path):
    vocab = tmp_path / "vocab.jsonl"
    vocab.write_text(lines(WELDING, TOOLS), encoding="utf-8")
    request = "Unser dünnes Blech verzieht sich jedes Mal, Richten kostet Stunden"
    on = Matcher(welding_store, settings.replace(vocabulary_file=str(vocab),
                                                 expansion_weight=1.0), gazetteer)
    off = Matcher(welding_store, settings.replace(vocabulary_file=str(vocab),
                                                  expansion_weight=0.0), gazetteer)
    r_on = on.match_text(request, kinds=["chair"], limit=50, parse=False)
    r_off = off.match_text(request, kinds=["chair"], limit=50, parse=False)
    assert r_on.parsed is not None and r_on.parsed.fields == ["Schweißverzug"]
    assert "Fachgebiet: Schweißverzug" in r_on.parsed.interpretation()
    assert r_on.as_dict()["query"]["fields"] == ["Schweißverzug"]
    assert r_off.parsed is not None and r_off.parsed.fields == []
    assert r_on.matches[0].profile.id == "t-ch-30"

    def raw(result):
        return next((m.raw for m in result.matches if m.profile.id == "t-ch-30"), 0.0)

    assert raw(r_on) > raw(r_off)


REQUEST = "Beim Schweißen verzieht sich unser dünnes Blech"
RANKED = [
    {"field": "Verzug", "triggers": ["verzieh"],
     "terms": ["Schweißen verzieht dünnes Blech", "Verzug"]},
    # fires on "Blech" too, but its terms have nothing to do with the request
    {"field": "Personal", "triggers": ["blech"],
     "terms": ["Fachkräftemangel", "Ausbildungsquote", "Tarifvertrag"]},
    *({"field": f"Nah {i}", "triggers": ["zzzzqq"], "terms": [f"Schweißen Blech {i}"]}
      for i in range(4)),
    *({"field": f"Fern {i}", "triggers": ["zzzzqq"], "terms": [f"Quartalsbilanz {i}"]}
      for i in range(4)),
]


def test_a_fired_field_far_from_the_request_is_left_out(indexed_store, settings, gazetteer,
                                                        tmp_path):
    vocab = tmp_path / "ranked.jsonl"
    vocab.write_text(lines(*RANKED), encoding="utf-8")
    base = settings.replace(vocabulary_file=str(vocab), expansion_weight=0.5)
    # half of the ten fields are the most similar to the request: "Verzug" and the four "Nah"
    ranked = Matcher(indexed_store, base.replace(expansion_rank_share=0.5), gazetteer)
    assert ranked.match_text(REQUEST, parse=False).parsed.fields == ["Verzug"]
    every = Matcher(indexed_store, base.replace(expansion_rank_share=1.0), gazetteer)
    assert every.match_text(REQUEST, parse=False).parsed.fields == ["Verzug", "Personal"]


def test_field_vectors_are_encoded_once_per_vocabulary_and_kept_in_the_data_dir(
        indexed_store, settings, gazetteer, tmp_path):
    vocab = tmp_path / "ranked.jsonl"
    vocab.write_text(lines(*RANKED), encoding="utf-8")
    s = settings.replace(vocabulary_file=str(vocab))
    first = Matcher(indexed_store, s, gazetteer)
    vectors = first.vocabulary_vectors()
    assert vectors.shape[0] == len(RANKED)
    saved = list((indexed_store.data_dir / "vocabulary").glob("*.npy"))
    assert len(saved) == 1

    # another process (a new matcher and encoder) reads them instead of encoding
    second = Matcher(indexed_store, s, gazetteer)

    def refuse(texts):
        raise AssertionError("field vectors encoded again")

    second.encode_doc.encode_uncached = refuse  # type: ignore[method-assign]
    assert second.match_text(REQUEST, parse=False).parsed.fields
    assert np.array_equal(second.vocabulary_vectors(), vectors)

    # a changed vocabulary is encoded anew, next to the old file
    vocab.write_text(lines(*RANKED[:5]), encoding="utf-8")
    third = Matcher(indexed_store, s, gazetteer)
    assert third.vocabulary_vectors().shape[0] == 5
    assert len(list((indexed_store.data_dir / "vocabulary").glob("*.npy"))) == 2


def test_field_vectors_work_when_the_folder_cannot_be_written(tmp_path):
    vocab = parse_vocabulary(lines(WELDING, TOOLS), "v.jsonl")
    blocked = tmp_path / "vocabulary"
    blocked.write_text("a file where the folder should be", encoding="utf-8")
    calls = []

    def encode(texts):
        calls.append(list(texts))
        return np.ones((len(texts), 4), dtype=np.float32)

    for _ in range(2):
        assert field_vectors(vocab, "m", blocked, encode).shape == (2, 4)
    assert len(calls) == 2  # nothing kept: encoded each time, no error
    assert list(tmp_path.iterdir()) == [blocked]  # and no temporary file left behind


def test_cli_checks_a_vocabulary_and_shows_what_a_text_fires(runner, data_dir, tmp_path):
    from matcher.cli import cli

    good = tmp_path / "good.jsonl"
    good.write_text(lines(WELDING, TOOLS), encoding="utf-8")
    args = ["--data-dir", str(data_dir), "vocabulary", "--file", str(good)]
    out = runner.invoke(cli, args)
    assert out.exit_code == 0, out.output
    assert "2 Fachgebiete, 4 Auslöser, 6 Fachbegriffe – gültig" in out.output
    out = runner.invoke(cli, [*args, "--json", "Nach dem Schweißen ist der Rahmen krumm"])
    data = json.loads(out.output)
    assert data["fired"] == [{"field": "Schweißverzug", "triggers": ["krumm schweiss"],
                              "terms": WELDING["terms"]}]
    out = runner.invoke(cli, [*args, "Wir suchen einen Caterer"])
    assert "Kein Fachgebiet ausgelöst." in out.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text(lines(WELDING, {"field": "X", "triggers": ["ab"], "terms": ["Y"]}),
                   encoding="utf-8")
    out = runner.invoke(cli, ["--data-dir", str(data_dir), "vocabulary", "--file", str(bad)])
    assert out.exit_code == 1
    assert "bad.jsonl:2: triggers: „ab“: Wortstamm „ab“ ist kürzer als 4 Zeichen" in out.output
