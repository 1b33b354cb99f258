from __future__ import annotations

import json
from pathlib import Path

import pytest

from matcher.errors import InputFileError, ValidationError
from matcher.ingest import ingest_files
from tests.conftest import PROFILES

BROKEN = [
    # (record, field the error must name)
    ({"id": "b-1", "kind": "fabrik", "name": "X", "description": "d", "city": "Freiberg"}, "kind"),
    ({"id": "b-2", "kind": "company", "name": "Ohne Beschreibung", "city": "Freiberg"},
     "description"),
    ({"id": "b-3", "kind": "researcher", "name": "Dr. Niemand", "description": "d",
      "city": "Chemnitz", "parent": "gibt-es-nicht", "career_stage": "postdoc"}, "parent"),
    ({"id": "b-4", "kind": "company", "name": "Falsche Stufe", "description": "d",
      "city": "Plauen", "career_stage": "postdoc"}, "career_stage"),
    ({"id": "b-5", "kind": "company", "name": "Zu weit weg", "description": "d",
      "lat": 48.14, "lon": 11.58}, "lat"),
]


def write_mixed(path: Path) -> list[int]:
    """20 good records with the 5 broken ones spread in; returns the broken lines."""
    good = PROFILES.read_text(encoding="utf-8").splitlines()
    lines, broken_lines = [], []
    for i, line in enumerate(good):
        lines.append(line)
        if i % 4 == 1 and len(broken_lines) < len(BROKEN):
            lines.append(json.dumps(BROKEN[len(broken_lines)][0], ensure_ascii=False))
            broken_lines.append(len(lines))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return broken_lines


def test_fixture_imports_cleanly(store, gazetteer):
    report = ingest_files(store, [PROFILES], gazetteer)
    assert report.inserted == 20 and not report.rejected and not report.warnings
    assert store.get("t-co-07").district == "Erzgebirgskreis"
    coords_only = store.get("t-co-09")
    assert coords_only.city is None and coords_only.district == "Dresden"


def test_mixed_file_all_or_nothing(store, gazetteer, tmp_path):
    ingest_files(store, [PROFILES], gazetteer)
    before = store.corpus_digest()
    mixed = tmp_path / "gemischt.jsonl"
    broken_lines = write_mixed(mixed)
    with pytest.raises(ValidationError) as exc:
        ingest_files(store, [mixed], gazetteer)
    problems = exc.value.problems
    assert sorted(p.line for p in problems) == broken_lines
    assert [p.field for p in sorted(problems, key=lambda p: p.line)] == [f for _, f in BROKEN]
    assert all(p.file == str(mixed) for p in problems)
    assert store.corpus_digest() == before


def test_mixed_file_skip_invalid_writes_rejects(store, gazetteer, tmp_path):
    mixed = tmp_path / "gemischt.jsonl"
    write_mixed(mixed)
    rejects = tmp_path / "abgelehnt.jsonl"
    report = ingest_files(store, [mixed], gazetteer, skip_invalid=True, rejects_path=rejects)
    assert report.inserted == 20 and store.count() == 20
    rows = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 5
    assert {r["record"]["id"] for r in rows} == {f"b-{i}" for i in range(1, 6)}
    assert all(r["errors"] and r["errors"][0]["message"] for r in rows)


def test_upsert_unchanged_and_changed(store, gazetteer, tmp_path):
    ingest_files(store, [PROFILES], gazetteer)
    again = ingest_files(store, [PROFILES], gazetteer)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 20)
    pk = store.pk_of("t-co-01")
    changed = tmp_path / "neu.jsonl"
    rec = json.loads(PROFILES.read_text(encoding="utf-8").splitlines()[0])
    rec["needs"] = "Jetzt suchen wir Fachkräfte für die Schweißaufsicht."
    changed.write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
    report = ingest_files(store, [changed], gazetteer)
    assert report.updated == 1
    assert store.pk_of("t-co-01") == pk
    assert "Schweißaufsicht" in (store.get("t-co-01").needs or "")


def test_csv_semicolon_with_bom(store, gazetteer, tmp_path):
    path = tmp_path / "excel.csv"
    text = ("id;kind;name;description;city;keywords;employees\n"
            "c-1;company;Müller & Söhne;Präzisionsteile für die Uhrenindustrie;Glashütte;"
            "Uhren,Feinmechanik;23\n")
    path.write_bytes("\ufeff".encode() + text.encode("utf-8"))
    report = ingest_files(store, [path], gazetteer)
    assert report.inserted == 1
    p = store.get("c-1")
    assert p.name == "Müller & Söhne" and p.keywords == ["Uhren", "Feinmechanik"]
    assert p.employees == 23 and p.district == "Landkreis Sächsische Schweiz-Osterzgebirge"


def test_json_array_reports_line_numbers(store, gazetteer, tmp_path):
    path = tmp_path / "liste.json"
    path.write_text(
        '[\n  {"id": "j-1", "kind": "company", "name": "A", "description": "a", '
        '"city": "Riesa"},\n  {"id": "j-2", "kind": "company", "name": "B",\n'
        '   "city": "Riesa"}\n]\n', encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        ingest_files(store, [path], gazetteer)
    (problem,) = exc.value.problems
    assert (problem.line, problem.field) == (3, "description")


def test_latin1_file_explains_conversion(store, gazetteer, tmp_path):
    path = tmp_path / "alt.csv"
    path.write_bytes("id,kind,name,description,city\nx,company,Bäcker,Brot,Torgau\n"
                     .encode("latin-1"))
    with pytest.raises(InputFileError) as exc:
        ingest_files(store, [path], gazetteer)
    assert "iconv" in exc.value.message and "UTF-8" in exc.value.message


def test_unknown_fields_kept_and_warned_once(store, gazetteer, tmp_path):
    path = tmp_path / "fremd.jsonl"
    recs = [{"id": f"u-{i}", "kind": "company", "name": "N", "description": "d",
             "city": "Zittau", "crm_id": i} for i in range(3)]
    path.write_text("\n".join(json.dumps(r) for r in recs), encoding="utf-8")
    report = ingest_files(store, [path], gazetteer)
    assert len(report.warnings) == 1 and "crm_id" in report.warnings[0]
    assert store.get("u-2").extra == {"crm_id": 2}


def test_text_is_nfc_normalised(store, gazetteer, tmp_path):
    path = tmp_path / "nfd.jsonl"
    decomposed = "Gera\u0308tebau Gro\u00dfe"  # "ä" as a + combining diaeresis
    path.write_text(json.dumps({"id": "n-1", "kind": "company", "name": decomposed,
                                "description": "Straße", "city": "Löbau"}), encoding="utf-8")
    ingest_files(store, [path], gazetteer)
    assert store.get("n-1").name == "Gerätebau Große"


def test_district_must_match_city(store, gazetteer, tmp_path):
    path = tmp_path / "kreis.jsonl"
    path.write_text(json.dumps({"id": "k-1", "kind": "company", "name": "N", "description": "d",
                                "city": "Freiberg", "district": "Vogtlandkreis"}),
                    encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        ingest_files(store, [path], gazetteer)
    assert "Landkreis Mittelsachsen" in exc.value.problems[0].message


def test_ambiguous_city_is_reported(store, gazetteer, tmp_path):
    path = tmp_path / "ort.jsonl"
    path.write_text(json.dumps({"id": "o-1", "kind": "company", "name": "N", "description": "d",
                                "city": "Oelsnitz"}), encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        ingest_files(store, [path], gazetteer)
    assert "Oelsnitz/Vogtl." in exc.value.problems[0].message


def test_allow_outside(store, gazetteer, tmp_path):
    path = tmp_path / "muc.jsonl"
    path.write_text(json.dumps({"id": "m-1", "kind": "company", "name": "N", "description": "d",
                                "lat": 48.14, "lon": 11.58}), encoding="utf-8")
    ingest_files(store, [path], gazetteer, allow_outside=True)
    assert store.get("m-1").district is None


def test_parent_in_same_import_and_child_of_rejected_parent(store, gazetteer, tmp_path):
    path = tmp_path / "eltern.jsonl"
    recs = [
        {"id": "p-ch", "kind": "chair", "name": "L", "description": "d",
         "city": "Ort-gibt-es-nicht"},
        {"id": "p-rs", "kind": "researcher", "name": "R", "description": "d", "city": "Leipzig",
         "parent": "p-ch"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in recs), encoding="utf-8")
    report = ingest_files(store, [path], gazetteer, skip_invalid=True,
                          rejects_path=tmp_path / "r.jsonl")
    assert report.inserted == 0
    assert [p.field for r in report.rejected for p in r.problems] == ["city", "parent"]
