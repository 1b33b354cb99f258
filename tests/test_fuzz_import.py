"""Fuzzing the import parser: generated JSONL, JSON, CSV (both delimiters), broken encodings,
huge fields and wrong types go through ``ingest_files``. The only errors allowed are the
library's own (``InputFileError``, ``ValidationError``) with ``file:line: field: message``
problems, and a rejected all-or-nothing import leaves the store exactly as it was.

The default run generates a few hundred inputs; the ``slow`` run (part of ``make test``) more
than 10,000. Both are derandomised; even so, a fresh-clone CI run of 2026-12-06 generated a file
that local runs had not (a CSV field over the csv module's limit, now a regression test below),
so the inputs are not guaranteed to be the same on every machine.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.errors import InputFileError, MatcherError, ValidationError
from matcher.ingest import ingest_files
from matcher.models import KINDS, PROFILE_FIELDS
from matcher.store import Store

CITIES = ["Freiberg", "Olbernhau", "Oelsnitz", "Chemnitz", "Görlitz", "Weißwasser/O.L.",
          "Reichenbach im Vogtland", "Atlantis", "Dresden-Neustadt", ""]
SUFFIXES = [".jsonl", ".ndjson", ".json", ".csv", ".txt", ".tsv", ".dat", ""]

# -- values -------------------------------------------------------------------------------
any_char = st.characters(codec=None)  # includes lone surrogates, NUL, control characters
junk = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=2**63, max_value=10**400),
    st.floats(), st.text(any_char, max_size=30), st.text(max_size=30),
    st.lists(st.one_of(st.integers(), st.text(max_size=8), st.none()), max_size=4),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.builds(lambda c, n: c * n, st.sampled_from(["ä", "x", "<", " ", "\n"]),
              st.integers(1_000, 25_000)),  # huge fields
)
good = {
    "id": st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True),
    "kind": st.sampled_from([*KINDS, "Company", " chair ", "firma"]),
    "name": st.text(min_size=1, max_size=40),
    "description": st.text(min_size=1, max_size=80),
    "city": st.sampled_from(CITIES),
    "lat": st.one_of(st.floats(50.1, 51.7), st.sampled_from(["50,91", "50.9", "91", "x"])),
    "lon": st.one_of(st.floats(11.8, 15.1), st.sampled_from(["13,3", "13.3", "200"])),
    "keywords": st.one_of(st.lists(st.text(max_size=10), max_size=4),
                          st.sampled_from(["a|b;c", "[\"x\", 1]", "[1, [2]]", "[{}]"])),
    "employees": st.one_of(st.integers(-5, 10**8), st.sampled_from(["12", "1e3", "zwölf"])),
    "founded": st.sampled_from([1990, "1991", 1100, 3000, 1995.0, 1995.5]),
    "visibility": st.sampled_from(["public", "internal", "hidden", "HIDDEN", "geheim"]),
    "parent": st.sampled_from(["ch-1", "tgz-1", "nope"]),
    "email": st.sampled_from(["a@b.de", "kaputt", "a@@b"]),
    "website": st.sampled_from(["https://x.de", "ftp://x", "javascript:alert(1)"]),
    "postcode": st.sampled_from(["09599", "123", "0959a"]),
    "career_stage": st.sampled_from(["postdoc", "professor", "dean"]),
    "category": st.sampled_from(["lab", "workshop", "castle"]),
    "gender": st.sampled_from(["w", "m", "d", "x"]),
    "district": st.sampled_from(["Erzgebirgskreis", "Leipzig", "Bayern"]),
}


REQUIRED = ("id", "kind", "name", "description", "city")
GOOD_OR_JUNK = {name: st.one_of(good.get(name, st.text(max_size=30)), junk)
                for name in PROFILE_FIELDS}
required_mode = st.sampled_from(["good", "good", "good", "junk", "absent"])
optional_fields = st.lists(st.sampled_from([f for f in PROFILE_FIELDS if f not in REQUIRED]),
                           max_size=5, unique=True)
extra_fields = st.dictionaries(st.text(any_char, max_size=8), junk, max_size=2)


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    """A record that is valid or close to valid, with some fields wrong, missing or extra."""
    rec: dict[str, Any] = {}
    for name in REQUIRED:
        mode = draw(required_mode)
        if mode != "absent":
            rec[name] = draw(good[name] if mode == "good" else junk)
    for name in draw(optional_fields):
        rec[name] = draw(GOOD_OR_JUNK[name])
    if draw(st.booleans()):
        rec.update(draw(extra_fields))
    return rec


RECORD = records()
garbage_lines = st.one_of(
    st.text(max_size=60), st.just("[1, 2]"), st.just("{\"id\": "),
    st.integers(1, 60_000).map(lambda n: "[" * n + "]" * n),  # deep nesting
    st.integers(4_400, 9_000).map(lambda n: "{\"employees\": " + "7" * n + "}"),  # huge int
    st.just("{\"name\": \"\\ud800\", \"id\": \"s1\"}"),  # lone surrogate escape
    st.just("NaN"), st.just("{\"lat\": Infinity, \"lon\": -Infinity}"),
)
jsonl_lines = st.lists(st.one_of(RECORD, garbage_lines, st.just("")), max_size=6)
newline = st.sampled_from(["\n", "\r\n"])
array_items = st.lists(st.one_of(RECORD, junk), max_size=5)
csv_rows = st.lists(RECORD, max_size=5)
extra_cells = st.lists(st.text(max_size=5), max_size=2)
ENCODINGS = st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "cp1252", "utf-16", "mutate",
                             "random"])
byte_edits = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1,
                      max_size=5)


@st.composite
def jsonl(draw: st.DrawFn) -> str:
    ascii_only = draw(st.booleans())
    lines = [x if isinstance(x, str) else json.dumps(x, ensure_ascii=ascii_only)
             for x in draw(jsonl_lines)]
    return draw(newline).join(lines)


@st.composite
def json_array(draw: st.DrawFn) -> str:
    text = json.dumps(draw(array_items), ensure_ascii=draw(st.booleans()),
                      indent=1 if draw(st.booleans()) else None)
    return text if draw(st.booleans()) else text[:draw(st.integers(0, len(text)))]


@st.composite
def csv_text(draw: st.DrawFn) -> str:
    rows = draw(csv_rows)
    header = list(dict.fromkeys(k for r in rows for k in r)) or ["id"]
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=draw(newline))
    w.writerow(header)
    for r in rows:
        cells = ["" if r.get(k) is None else str(r.get(k)) for k in header]
        if draw(st.booleans()):
            cells += draw(extra_cells)
        w.writerow(cells)
    text = buf.getvalue()
    if draw(st.booleans()):  # unbalanced quotes, NUL bytes, stray delimiters
        pos = draw(st.integers(0, len(text)))
        text = text[:pos] + draw(st.sampled_from(["\"", "\0", delimiter, "\n\"x"])) + text[pos:]
    return text


FILE_TEXT = st.one_of(jsonl(), json_array(), csv_text())


@st.composite
def import_files(draw: st.DrawFn) -> tuple[str, bytes]:
    """(suffix, bytes) of a generated import file."""
    text = draw(FILE_TEXT)
    encoding = draw(ENCODINGS)
    if encoding == "random":
        data = draw(st.binary(max_size=300))
    elif encoding == "mutate":
        edited = bytearray(text.encode("utf-8", "surrogatepass"))
        for pos, byte in draw(byte_edits):
            if edited:
                edited[pos % len(edited)] = byte
        data = bytes(edited)
    else:
        data = text.encode(encoding, "surrogatepass" if encoding.startswith("utf") else "replace")
    return draw(st.sampled_from(SUFFIXES)), data


# -- properties ---------------------------------------------------------------------------
def store_state(store: Store) -> tuple[str, int, int]:
    log = int(store.db.execute("SELECT count(*) FROM import_log").fetchone()[0])
    return store.corpus_digest(), store.count(), log


def check_problems(exc: MatcherError, path: Path) -> None:
    if isinstance(exc, InputFileError):
        assert exc.message.startswith(f"{path}:"), exc.message
        return
    assert isinstance(exc, ValidationError), repr(exc)
    assert exc.problems
    for p in exc.problems:
        assert p.file == str(path) and isinstance(p.line, int) and p.line >= 1, p
        assert p.field and p.message.strip(), p
        assert str(p) in exc.message


def fuzz(examples: int, gazetteer, skip_invalid: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = Store(folder / "instance")
        seen: list[int] = []

        @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(file=import_files())
        def one(file: tuple[str, bytes]) -> None:
            seen.append(1)
            suffix, data = file
            path = folder / f"import-{len(seen)}{suffix}"
            path.write_bytes(data)
            before = store_state(store)
            rejects = folder / "rejects.jsonl"
            rejects.unlink(missing_ok=True)
            try:
                report = ingest_files(store, [path], gazetteer, skip_invalid=skip_invalid,
                                      rejects_path=rejects)
            except MatcherError as exc:
                check_problems(exc, path)
                assert store_state(store) == before, "a rejected import wrote something"
                return
            finally:
                path.unlink()
            after = store_state(store)
            assert after[1] == before[1] + report.inserted
            assert after[2] == before[2] + 1
            if not skip_invalid:
                assert not report.rejected
                return
            lines = rejects.read_text("utf-8").split("\n")[:-1] if rejects.exists() else []
            assert len(lines) == len(report.rejected)
            for line in lines:
                entry = json.loads(line)
                assert entry["errors"] and all(e["field"] and e["message"]
                                               for e in entry["errors"])

        one()
        integrity = store.db.execute("PRAGMA integrity_check").fetchall()
        store.close()
    assert integrity == [("ok",)]
    assert len(seen) >= examples


def test_fuzz_all_or_nothing(gazetteer):
    fuzz(300, gazetteer, skip_invalid=False)


def test_fuzz_skip_invalid(gazetteer):
    fuzz(150, gazetteer, skip_invalid=True)


@pytest.mark.slow
def test_fuzz_ten_thousand_imports(gazetteer):
    fuzz(8_500, gazetteer, skip_invalid=False)
    fuzz(2_000, gazetteer, skip_invalid=True)


def test_generated_files_reach_every_format(gazetteer):
    """The strategies produce each format and both outcomes (guards against a vacuous fuzz)."""
    outcomes: set[str] = set()
    formats: set[str] = set()
    from matcher.readers import detect_format

    @settings(max_examples=200, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(file=import_files())
    def one(file: tuple[str, bytes]) -> None:
        suffix, data = file
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"x{suffix}"
            path.write_bytes(data)
            try:
                text = data.decode("utf-8-sig")
                formats.add(detect_format(path, text))
            except UnicodeDecodeError:
                formats.add("undecodable")
            store = Store(Path(tmp) / "i")
            try:
                ingest_files(store, [path], gazetteer)
                outcomes.add("imported")
            except MatcherError as exc:
                outcomes.add(type(exc).__name__)
            finally:
                store.close()

    one()
    assert formats >= {"jsonl", "json", "csv", "undecodable"}, formats
    assert outcomes >= {"imported", "ValidationError", "InputFileError"}, outcomes


@pytest.mark.parametrize("line, message", [
    ("[" * 50_000 + "]" * 50_000, "zu tief verschachtelt"),
    ('{"id": "a", "employees": ' + "7" * 5000 + "}", "Zahl mit zu vielen Stellen"),
    ('{"id": "a", "name": "\\udc80"}', "Surrogat"),
])
def test_found_by_fuzzing_unreadable_json_is_a_problem(tmp_path, store, gazetteer, line,
                                                       message):
    for suffix, text in ((".jsonl", line), (".json", f"[{line}]")):
        path = tmp_path / f"f{suffix}"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ValidationError, match=f"{path}:1: -: .*{message}"):
            ingest_files(store, [path], gazetteer)
    assert store.count() == 0


@pytest.mark.parametrize("text, line", [
    ("id,name\nt-1," + "x" * 200_000 + "\n", 2),  # a value
    ("id," + "n" * 200_000 + "\nt-1,A\n", 1),  # the header: the reader had read no line yet
])
def test_found_by_fuzzing_huge_csv_fields_name_their_line(tmp_path, store, gazetteer, text,
                                                          line):
    path = tmp_path / "f.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError, match=f"{path}:{line}: -: ein Feld ist länger als "
                                              "131.072 Zeichen"):
        ingest_files(store, [path], gazetteer)
    assert store.count() == 0


def test_found_by_fuzzing_line_separators_inside_strings(tmp_path, store, gazetteer):
    rec = {"id": "t-1", "kind": "company", "name": "Zeile\u2028Trenner\x85GmbH",
           "description": "Absatz\u2029Ende", "city": "Freiberg"}
    path = tmp_path / "f.jsonl"
    path.write_text(json.dumps(rec, ensure_ascii=False) + "\n", encoding="utf-8")
    assert ingest_files(store, [path], gazetteer).inserted == 1
    assert store.get("t-1").name == rec["name"]


def test_found_by_fuzzing_huge_coordinates(tmp_path, store, gazetteer):
    path = tmp_path / "f.jsonl"
    path.write_text(json.dumps({"id": "t-1", "kind": "company", "name": "A", "description": "B",
                                "lat": 10**400, "lon": 13}) + "\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="lat: lat/lon müssen Zahlen sein"):
        ingest_files(store, [path], gazetteer)
