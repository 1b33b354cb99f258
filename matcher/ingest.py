"""Import of profile files into the store: validate everything, then write all or nothing."""

from __future__ import annotations

import datetime as _dt
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matcher.errors import Problem, ValidationError
from matcher.geo import Gazetteer
from matcher.models import PARENT_KINDS, Profile, RecordValidator
from matcher.readers import RawRecord, read_records
from matcher.store import Store


@dataclass
class Rejected:
    """A record that was not imported, with every reason."""

    file: str
    line: int
    data: dict[str, Any]
    problems: list[Problem]


@dataclass
class IngestReport:
    """What an import did (or would have done)."""

    files: list[str]
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rejects_path: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": self.files, "read": self.read, "inserted": self.inserted,
            "updated": self.updated, "unchanged": self.unchanged,
            "rejected": len(self.rejected), "warnings": self.warnings,
            "rejects_path": self.rejects_path,
            "problems": [str(p) for r in self.rejected for p in r.problems],
        }


@dataclass
class _Candidate:
    file: str
    raw: RawRecord
    profile: Profile


def _unknown_field_warnings(name: str, seen: dict[str, list[int]]) -> list[str]:
    return [
        f"{name}:{lines[0]}: unbekanntes Feld '{fld}' in {len(lines)} Datensatz/Datensätzen — "
        "wird als Zusatzfeld gespeichert"
        for fld, lines in sorted(seen.items())
    ]


def _check_parents(candidates: list[_Candidate], known_kinds: dict[str, str]) -> dict[str, Problem]:
    """Return a problem per candidate id whose parent is missing, invalid or of the wrong kind.

    A child of a rejected parent is rejected too, until nothing changes.
    """
    bad: dict[str, Problem] = {}
    while True:
        kinds = dict(known_kinds)
        kinds.update({c.profile.id: c.profile.kind for c in candidates if c.profile.id not in bad})
        changed = False
        for c in candidates:
            p = c.profile
            if p.id in bad or not p.parent:
                continue
            allowed = PARENT_KINDS.get(p.kind, ())
            if p.parent not in kinds:
                msg = (f"Eltern-Profil {p.parent!r} existiert nicht "
                       "(weder in der Datenbank noch im Import)")
            elif kinds[p.parent] not in allowed:
                msg = (f"{p.parent!r} ist ein {kinds[p.parent]}, für {p.kind} erwartet: "
                       + " oder ".join(allowed))
            else:
                continue
            bad[p.id] = Problem(c.file, c.raw.line, "parent", msg)
            changed = True
        if not changed:
            return bad


def _validate(paths: list[Path], validator: RecordValidator, store: Store,
              progress: Callable[[int], None] | None, report: IngestReport) -> list[_Candidate]:
    candidates: list[_Candidate] = []
    first_seen: dict[str, str] = {}
    for path in paths:
        name = str(path)
        records, parse_problems = read_records(path)
        report.read += len(records) + len(parse_problems)
        for prob in parse_problems:
            report.rejected.append(Rejected(name, prob.line, {}, [prob]))
        unknown: dict[str, list[int]] = {}
        for raw in records:
            check = validator.check(raw.data)
            for fld in check.unknown_fields:
                unknown.setdefault(fld, []).append(raw.line)
            problems = [Problem(name, raw.line, f, m) for f, m in check.errors]
            if check.profile is not None:
                where = f"{name}:{raw.line}"
                if check.profile.id in first_seen:
                    problems.append(Problem(name, raw.line, "id",
                                            f"{check.profile.id!r} doppelt (schon in "
                                            f"{first_seen[check.profile.id]})"))
                else:
                    first_seen[check.profile.id] = where
            if problems or check.profile is None:
                report.rejected.append(Rejected(name, raw.line, raw.data, problems))
            else:
                candidates.append(_Candidate(name, raw, check.profile))
            if progress:
                progress(1)
        report.warnings.extend(_unknown_field_warnings(name, unknown))
    bad = _check_parents(candidates, store.kinds())
    for c in candidates:
        if c.profile.id in bad:
            report.rejected.append(Rejected(c.file, c.raw.line, c.raw.data, [bad[c.profile.id]]))
    return [c for c in candidates if c.profile.id not in bad]


def write_rejects(path: Path, rejected: Iterable[Rejected]) -> None:
    """Write rejected records with reasons as JSONL, atomically (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".rejects-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for r in rejected:
                fh.write(json.dumps({
                    "file": r.file, "line": r.line,
                    "errors": [{"field": p.field, "message": p.message} for p in r.problems],
                    "record": r.data,
                }, ensure_ascii=False) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def count_records(paths: Iterable[Path]) -> int:
    """Cheap estimate of how many records the files hold (for progress bars)."""
    total = 0
    for p in paths:
        try:
            with open(p, "rb") as fh:
                total += sum(1 for line in fh if line.strip())
        except OSError:
            continue
    return total


def ingest_files(
    store: Store,
    paths: Iterable[str | Path],
    gazetteer: Gazetteer,
    *,
    allow_outside: bool = False,
    skip_invalid: bool = False,
    rejects_path: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Validate and import profile files (JSONL, JSON array or CSV).

    Without ``skip_invalid`` the whole import is all-or-nothing: any invalid record raises
    and nothing is written. With it, valid records are imported and rejected ones are written
    with their reasons to ``rejects_path`` (default: ``<data dir>/rejects-<time>.jsonl``).

    Raises:
        InputFileError: a file cannot be read or decoded.
        ValidationError: some records are invalid and ``skip_invalid`` is false.
    """
    files = [Path(p) for p in paths]
    report = IngestReport([str(p) for p in files])
    started = _dt.datetime.now(_dt.UTC)
    validator = RecordValidator(gazetteer, allow_outside=allow_outside)
    valid = _validate(files, validator, store, progress, report)
    report.rejected.sort(key=lambda r: (report.files.index(r.file), r.line))
    problems = [p for r in report.rejected for p in r.problems]
    if report.rejected and not skip_invalid:
        raise ValidationError(
            problems,
            f"{len(report.rejected)} von {report.read} Datensätzen ungültig — nichts importiert "
            "(mit --skip-invalid nur die gültigen importieren)",
        )
    if report.rejected:
        stamp = started.strftime("%Y%m%dT%H%M%S")
        target = Path(rejects_path) if rejects_path else store.data_dir / f"rejects-{stamp}.jsonl"
        write_rejects(target, report.rejected)
        report.rejects_path = str(target)
    with store.transaction():  # profiles and their import-log entry commit together
        counts = store.upsert(c.profile for c in valid)
        report.inserted, report.updated, report.unchanged = (
            counts.inserted, counts.updated, counts.unchanged)
        store.log_import({
            "started_at": started.isoformat(timespec="seconds"),
            "finished_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "files": json.dumps(report.files, ensure_ascii=False),
            "inserted": report.inserted, "updated": report.updated,
            "unchanged": report.unchanged, "rejected": len(report.rejected),
            "warnings": len(report.warnings), "status": "ok",
        })
    return report
