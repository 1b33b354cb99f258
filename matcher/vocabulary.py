"""Problem vocabulary: everyday German cues of a problem → the technical terms of its field.

SMEs describe symptoms ("das Blech verzieht sich", "die Fräser sind ständig stumpf"); the
partners who solve them write field names ("Schweißverzug", "Werkzeugverschleiß"). A request
whose words fire a field's triggers is searched with that field's terms as well.

The bundled vocabulary is ``matcher/data/problem_vocabulary.jsonl``; the setting
``vocabulary_file`` points to another file in the same format (one JSON object per line):

    {"field": "Schweißverzug", "triggers": ["verzieh", "krumm schweiß"],
     "terms": ["Schweißverzug", "Wärmeeintrag", "Laserstrahlschweißen"]}

A trigger is one to three word stems; it fires when every stem occurs inside some word of the
request (case-insensitive, ß = ss).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from matcher.errors import InputFileError, Problem, ValidationError

BUNDLED = "data/problem_vocabulary.jsonl"
MIN_STEM = 4
MAX_STEMS = 3
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
_KEYS = ("field", "triggers", "terms")


def fold(text: str) -> str:
    """Lower case with ß written as ss (how triggers and requests are compared)."""
    return text.lower().replace("ß", "ss")


def _words(text: str) -> str:
    """The folded words of ``text`` joined by a separator no stem contains ("" for none)."""
    return "|".join(_WORD.findall(fold(text)))


@dataclass(frozen=True)
class Field:
    """One problem class: its name, its triggers (tuples of folded stems) and its terms."""

    name: str
    triggers: tuple[tuple[str, ...], ...]
    terms: tuple[str, ...]


@dataclass(frozen=True)
class Vocabulary:
    """The fields of a vocabulary file, in file order."""

    fields: tuple[Field, ...]

    def fired(self, text: str) -> list[int]:
        """Positions of the fields whose triggers fire on ``text``, in file order."""
        words = _words(text)
        if not words:
            return []
        # the stems inside the words, then only the triggers that start with one of them
        found = {stem for stem in self._by_first_stem if stem in words}
        return sorted({i for stem in found for i, trigger in self._by_first_stem[stem]
                       if all(s in found for s in trigger)})

    @cached_property
    def _by_first_stem(self) -> dict[str, list[tuple[int, tuple[str, ...]]]]:
        """Every trigger, as (field position, stems), under its first stem; every other stem
        is a key too (with no triggers) so that it is looked for."""
        out: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        for i, f in enumerate(self.fields):
            for trigger in f.triggers:
                out.setdefault(trigger[0], []).append((i, trigger))
                for stem in trigger[1:]:
                    out.setdefault(stem, [])
        return out

    def fired_triggers(self, text: str, position: int) -> list[str]:
        """The triggers of the field at ``position`` that fire on ``text`` (to see why a field
        fired when curating a vocabulary)."""
        words = _words(text)
        return [" ".join(t) for t in self.fields[position].triggers
                if words and all(stem in words for stem in t)]

    def fields_for(self, text: str) -> list[Field]:
        """The fields whose triggers fire on ``text``, in file order."""
        return [self.fields[i] for i in self.fired(text)]

    @cached_property
    def texts(self) -> tuple[str, ...]:
        """Each field's search text (its terms), by position."""
        return tuple(self.expansion([f]) for f in self.fields)

    def digest(self, model_id: str) -> str:
        """Identifies this vocabulary's field vectors of the model ``model_id``."""
        h = hashlib.sha256(model_id.encode("utf-8"))
        for text in self.texts:
            h.update(b"\0" + text.encode("utf-8"))
        return h.hexdigest()[:32]

    def expansion(self, fields: list[Field]) -> str:
        """The search text the ``fields`` add: their terms, each once."""
        seen: dict[str, None] = {}
        for f in fields:
            for term in f.terms:
                seen.setdefault(term, None)
        return ", ".join(seen)


def _problems(obj: object, where: str, line: int, names: set[str]) -> list[Problem]:
    if not isinstance(obj, dict):
        return [Problem(where, line, "-", "ein JSON-Objekt pro Zeile erwartet")]
    out = [Problem(where, line, k, "Feld fehlt") for k in _KEYS if k not in obj]
    out += [Problem(where, line, k, f"unbekanntes Feld; erlaubt sind {', '.join(_KEYS)}")
            for k in obj if k not in _KEYS]
    name = obj.get("field")
    if "field" in obj and (not isinstance(name, str) or not name.strip()):
        out.append(Problem(where, line, "field", "Name des Fachgebiets als Text angeben"))
    elif isinstance(name, str) and name.strip() in names:
        out.append(Problem(where, line, "field", f"„{name}“ steht schon in einer früheren "
                                                 "Zeile; Einträge zusammenführen"))
    for key in ("triggers", "terms"):
        value = obj.get(key)
        if key in obj and (not isinstance(value, list) or not value
                           or not all(isinstance(v, str) and v.strip() for v in value)):
            out.append(Problem(where, line, key, "nicht leere Liste von Texten angeben"))
    triggers = obj.get("triggers")
    if isinstance(triggers, list):
        for t in triggers:
            stems = t.split() if isinstance(t, str) else []
            if len(stems) > MAX_STEMS:
                out.append(Problem(where, line, "triggers",
                                   f"„{t}“: höchstens {MAX_STEMS} Wortstämme je Auslöser"))
            odd = [s for s in stems if not _WORD.fullmatch(fold(s))]
            if odd:
                out.append(Problem(where, line, "triggers",
                                   f"„{t}“: Wortstamm „{odd[0]}“ enthält andere Zeichen "
                                   "als Buchstaben, Ziffern und Bindestriche"))
            short = [s for s in stems if len(s) < MIN_STEM]
            if short:
                out.append(Problem(where, line, "triggers",
                                   f"„{t}“: Wortstamm „{short[0]}“ ist kürzer als {MIN_STEM} "
                                   "Zeichen und passt auf zu viele Wörter; verlängern oder "
                                   "weglassen"))
    return out


def parse_vocabulary(text: str, where: str) -> Vocabulary:
    """The vocabulary in ``text`` (JSON lines); ``where`` names the file in messages.

    Raises:
        ValidationError: every invalid line, with line number, field and what to do.
    """
    fields: list[Field] = []
    problems: list[Problem] = []
    names: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            problems.append(Problem(where, number, "-", f"kein gültiges JSON ({exc.msg})"))
            continue
        found = _problems(obj, where, number, names)
        if found:
            problems += found
            continue
        names.add(obj["field"].strip())
        fields.append(Field(obj["field"].strip(),
                            tuple(tuple(fold(t).split()) for t in obj["triggers"]),
                            tuple(t.strip() for t in obj["terms"])))
    if problems:
        raise ValidationError(problems, f"Vokabular {where} ist ungültig")
    return Vocabulary(tuple(fields))


def load_vocabulary(path: str = "") -> Vocabulary:
    """The vocabulary of the file ``path``, or the bundled one when ``path`` is empty; read
    again when the file has changed since the last call.

    Raises:
        InputFileError: the file cannot be read.
        ValidationError: a line is invalid.
    """
    try:
        if not path:
            return _load(str(resources.files("matcher").joinpath(BUNDLED)), f"matcher/{BUNDLED}",
                         0, 0)
        stat = os.stat(path)
        return _load(path, path, stat.st_mtime_ns, stat.st_size)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"Vokabular {path or BUNDLED} lässt sich nicht lesen ({exc}); "
                             "Pfad in der Einstellung vocabulary_file prüfen (UTF-8, "
                             "JSON-Zeilen)") from exc


@lru_cache(maxsize=8)
def _load(path: str, where: str, mtime_ns: int, size: int) -> Vocabulary:
    """The vocabulary of ``path`` (cached per modification time and size)."""
    return parse_vocabulary(Path(path).read_text(encoding="utf-8"), where)


def field_vectors(vocabulary: Vocabulary, model_id: str, folder: Path,
                  encode: Callable[[Sequence[str]], np.ndarray]) -> np.ndarray:
    """The query vectors of the vocabulary's fields (rows by position) for the model
    ``model_id``: read from ``folder`` when saved there before, else encoded with ``encode``
    and saved (atomically; a folder that cannot be written only costs the next process the
    encoding again)."""
    path = folder / f"{vocabulary.digest(model_id)}.npy"
    try:
        saved = np.load(path)
        if saved.shape[0] == len(vocabulary.fields):
            return saved
    except (OSError, ValueError):
        pass
    vectors = np.asarray(encode(list(vocabulary.texts)), dtype=np.float32)
    tmp = folder / f".{path.stem}-{uuid.uuid4().hex[:8]}.npy"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(tmp, vectors)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
    return vectors
