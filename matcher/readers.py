"""Reading import files: JSONL, JSON arrays and CSV (comma or semicolon), UTF-8 (BOM optional)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matcher.errors import InputFileError, Problem
from matcher.models import has_lone_surrogate

MAX_FILE_BYTES = 200 * 1024 * 1024


@dataclass
class RawRecord:
    """One record as read from a file, with the line it starts on."""

    line: int
    data: dict[str, Any]


def decode(raw: bytes, name: str) -> str:
    """Decode file bytes as UTF-8 (a BOM is dropped).

    Raises:
        InputFileError: the bytes are not UTF-8; the message says how to convert them.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputFileError(
            f"{name}: Datei ist UTF-16 kodiert. Bitte als UTF-8 speichern "
            f"(Excel: „CSV UTF-8“; Terminal: iconv -f UTF-16 -t UTF-8 {name} > neu.csv)."
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputFileError(
            f"{name}:{line}: Datei ist nicht UTF-8 kodiert (Byte 0x{raw[exc.start]:02x}). "
            f"Vermutlich Windows-1252/Latin-1: bitte umwandeln, z. B. "
            f"iconv -f WINDOWS-1252 -t UTF-8 {name} > neu.csv, oder in Excel „CSV UTF-8“ wählen."
        ) from exc


def detect_format(path: Path, text: str) -> str:
    """Return 'jsonl', 'json' or 'csv' from the file name, falling back to the content."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".json":
        return "json" if text.lstrip().startswith("[") else "jsonl"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    head = text.lstrip()[:1]
    return "json" if head == "[" else "jsonl" if head == "{" else "csv"


def _json_problem(exc: ValueError | RecursionError) -> str:
    """German text for why a piece of JSON could not be read."""
    if isinstance(exc, json.JSONDecodeError):
        return f"kein gültiges JSON ({exc.msg}, Spalte {exc.colno})"
    if isinstance(exc, RecursionError):
        return "kein gültiges JSON (zu tief verschachtelt)"
    return "kein gültiges JSON (Zahl mit zu vielen Stellen)"


SURROGATE_PROBLEM = ("Eintrag enthält ein ungültiges Unicode-Escape (einzelnes Surrogat wie "
                     "\\ud800) — bitte die Zeichen korrekt als UTF-8 speichern")


def read_jsonl(text: str, name: str) -> tuple[list[RawRecord], list[Problem]]:
    records, problems = [], []
    # Only \n ends a line: JSON strings may hold U+2028, U+0085 and the like unescaped.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError) as exc:
            problems.append(Problem(name, number, "-", _json_problem(exc)))
            continue
        if not isinstance(obj, dict):
            problems.append(Problem(name, number, "-", "jede Zeile muss ein JSON-Objekt {…} sein"))
            continue
        if has_lone_surrogate(obj):
            problems.append(Problem(name, number, "-", SURROGATE_PROBLEM))
            continue
        records.append(RawRecord(number, obj))
    return records, problems


def read_json_array(text: str, name: str) -> tuple[list[RawRecord], list[Problem]]:
    decoder = json.JSONDecoder()
    start = text.index("[") + 1
    records: list[RawRecord] = []
    problems: list[Problem] = []
    pos = start
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text):
            problems.append(Problem(name, text.count("\n", 0, pos) + 1, "-",
                                    "JSON-Array nicht geschlossen (']' fehlt)"))
            break
        if text[pos] == "]":
            break
        line = text.count("\n", 0, pos) + 1
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            problems.append(Problem(name, exc.lineno, "-", f"kein gültiges JSON ({exc.msg})"))
            break
        except (ValueError, RecursionError) as exc:
            problems.append(Problem(name, line, "-", _json_problem(exc)))
            break
        if not isinstance(obj, dict):
            problems.append(Problem(name, line, "-", "jeder Eintrag muss ein JSON-Objekt sein"))
        elif has_lone_surrogate(obj):
            problems.append(Problem(name, line, "-", SURROGATE_PROBLEM))
        else:
            records.append(RawRecord(line, obj))
    return records, problems


def read_csv(text: str, name: str) -> tuple[list[RawRecord], list[Problem]]:
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    if first.count("\t") > max(first.count(";"), first.count(",")):
        delimiter = "\t"
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    records, problems = [], []
    line = 2
    try:
        for row in reader:
            if None in row:
                problems.append(Problem(name, line, "-", "mehr Spalten als Überschriften"))
            else:
                data = {k.strip(): v for k, v in row.items() if k and v not in (None, "")}
                if data:
                    records.append(RawRecord(line, data))
            line = reader.line_num + 1
    except csv.Error as exc:
        # line_num counts the lines read before the one that failed (0: the header failed)
        where = reader.line_num + 1
        if "field larger than field limit" in str(exc):
            limit = f"{csv.field_size_limit():,}".replace(",", ".")
            problems.append(Problem(name, where, "-", f"ein Feld ist länger als {limit} Zeichen "
                                    "— bitte kürzen oder als JSONL importieren"))
        else:
            problems.append(Problem(name, where, "-", f"CSV-Fehler: {exc}"))
    return records, problems


def read_records(path: Path) -> tuple[list[RawRecord], list[Problem]]:
    """Read every record of a file; unparseable lines are returned as problems.

    Raises:
        InputFileError: the file is missing, too large, or not UTF-8.
    """
    name = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputFileError(f"{name}: Datei nicht lesbar ({exc.strerror}).") from exc
    if size > MAX_FILE_BYTES:
        raise InputFileError(f"{name}: Datei ist größer als {MAX_FILE_BYTES // 2**20} MB — "
                             "bitte in mehrere Dateien aufteilen.")
    text = decode(path.read_bytes(), name)
    fmt = detect_format(path, text)
    if fmt == "json":
        return read_json_array(text, name)
    if fmt == "csv":
        return read_csv(text, name)
    return read_jsonl(text, name)
