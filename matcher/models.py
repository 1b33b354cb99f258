"""The profile model: kinds, fields and validation of imported records."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from matcher.districts import find_district
from matcher.errors import PlaceError
from matcher.geo import Gazetteer, in_saxony_bbox

KINDS = ("company", "startup", "chair", "researcher", "tgz", "offering")
KIND_LABELS = {
    "company": "Unternehmen",
    "startup": "Start-up",
    "chair": "Lehrstuhl",
    "researcher": "Forschende",
    "tgz": "TGZ",
    "offering": "Angebot",
}
CAREER_STAGES = ("doctoral", "postdoc", "group_leader", "junior_professor", "professor")
VISIBILITIES = ("public", "internal", "hidden")
OFFERING_CATEGORIES = (
    "lab", "workshop", "clean_room", "test_field", "coworking", "event_space", "consulting",
    "event",
)
CAREER_STAGE_LABELS = {
    "doctoral": "Promotion", "postdoc": "Postdoc", "group_leader": "Gruppenleitung",
    "junior_professor": "Juniorprofessur", "professor": "Professur",
}
CATEGORY_LABELS = {
    "lab": "Labor", "workshop": "Werkstatt", "clean_room": "Reinraum", "test_field": "Testfeld",
    "coworking": "Coworking", "event_space": "Veranstaltungsraum", "consulting": "Beratung",
    "event": "Veranstaltung",
}
GENDERS = ("w", "m", "d")
CONTACT_FIELDS = ("email", "phone", "street")
ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# Which kinds a ``parent`` may point to, per kind of the child.
PARENT_KINDS = {
    "researcher": ("chair",),
    "offering": ("tgz",),
    "company": ("company",),
    "startup": ("company", "startup"),
    "chair": ("chair",),
}


@dataclass
class Profile:
    """One actor or offering of the innovation ecosystem."""

    id: str
    kind: str
    name: str
    description: str
    city: str | None = None
    lat: float | None = None
    lon: float | None = None
    district: str | None = None
    postcode: str | None = None
    street: str | None = None
    offers: str | None = None
    needs: str | None = None
    keywords: list[str] = field(default_factory=list)
    institution: str | None = None
    parent: str | None = None
    career_stage: str | None = None
    category: str | None = None
    gender: str | None = None
    employees: int | None = None
    founded: int | None = None
    website: str | None = None
    email: str | None = None
    phone: str | None = None
    visibility: str = "public"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        """The profile as an import-format record (no empty fields; extras inlined)."""
        out = {k: v for k, v in asdict(self).items() if k != "extra" and v not in (None, [], "")}
        out.update(self.extra)
        return out

    def content_hash(self) -> str:
        """SHA-256 over the canonical record: equal hashes mean equal content."""
        blob = json.dumps(self.to_record(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Profile:
        """Rebuild a profile from a store row."""
        data = {k: row[k] for k in _FIELD_NAMES if k in row}
        data["keywords"] = json.loads(row.get("keywords") or "[]")
        data["extra"] = json.loads(row.get("extra") or "{}")
        return cls(**data)


PROFILE_FIELDS = tuple(f.name for f in fields(Profile) if f.name != "extra")
_FIELD_NAMES = frozenset(f.name for f in fields(Profile))
TEXT_LIMITS = {"name": 300, "description": 20_000, "offers": 10_000, "needs": 10_000}
_STRING_FIELDS = (
    "name", "description", "city", "district", "postcode", "street", "offers", "needs",
    "institution", "parent", "website", "email", "phone",
)


def nfc(value: str) -> str:
    """NFC-normalise and strip a text; umlauts and ß are kept."""
    return unicodedata.normalize("NFC", value).strip()


@dataclass
class RecordCheck:
    """Result of validating one raw record."""

    profile: Profile | None
    errors: list[tuple[str, str]]  # (field, message)
    unknown_fields: list[str]


def has_lone_surrogate(obj: Any) -> bool:
    """Whether a decoded JSON value (keys included) holds a ``\\ud800``-style escape that
    is no character and cannot be stored as UTF-8."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _as_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    return int(str(value).strip())


def _as_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(value)
    return float(str(value).strip().replace(",", ".")) if isinstance(value, str) else float(value)


def _as_keywords(value: Any) -> list[str]:
    if isinstance(value, list):
        items = value
    else:
        text = str(value).strip()
        if text.startswith("["):
            items = json.loads(text)
            if not isinstance(items, list):
                raise ValueError(text)
        else:
            items = re.split(r"[|;,]", text)
    out = []
    for item in items:
        if not isinstance(item, str | int | float) or isinstance(item, bool):
            raise ValueError(item)
        word = nfc(str(item))
        if word and word not in out:
            out.append(word)
    return out


class RecordValidator:
    """Validates raw records (dicts from JSONL/JSON/CSV) and turns them into profiles."""

    def __init__(self, gazetteer: Gazetteer, allow_outside: bool = False) -> None:
        self.gazetteer = gazetteer
        self.allow_outside = allow_outside
        self.this_year = _dt.date.today().year

    def check(self, raw: Mapping[str, Any]) -> RecordCheck:
        """Validate one record; every problem is collected, not only the first."""
        errors: list[tuple[str, str]] = []
        known = set(PROFILE_FIELDS)
        unknown = [k for k in raw if k not in known]
        broken = [k for k, v in raw.items() if has_lone_surrogate(k) or has_lone_surrogate(v)]
        if broken:  # such text cannot be stored; nothing else is worth checking
            return RecordCheck(None, [(
                str(k).encode("utf-8", "backslashreplace").decode("utf-8"),
                "enthält ein ungültiges Unicode-Zeichen (einzelnes Surrogat wie \\ud800) — "
                "bitte den Text korrekt als UTF-8 senden") for k in broken], unknown)
        data: dict[str, Any] = {}
        for name in _STRING_FIELDS:
            value = raw.get(name)
            if _empty(value):
                continue
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                errors.append((name, "muss ein Text sein"))
                continue
            text = nfc(str(value))
            limit = TEXT_LIMITS.get(name, 2_000)
            if len(text) > limit:
                errors.append((name, f"zu lang ({len(text)} Zeichen, höchstens {limit})"))
                continue
            data[name] = text
        self._check_identity(raw, data, errors)
        self._check_numbers(raw, data, errors)
        self._check_enums(raw, data, errors)
        self._check_location(raw, data, errors)
        if not _empty(raw.get("keywords")):
            try:
                data["keywords"] = _as_keywords(raw["keywords"])
            except (ValueError, json.JSONDecodeError):
                errors.append(("keywords", "muss eine Liste von Wörtern sein"))
        if errors:
            return RecordCheck(None, errors, unknown)
        extra = {k: raw[k] for k in unknown}
        return RecordCheck(Profile(**data, extra=extra), [], unknown)

    def _check_identity(self, raw: Mapping[str, Any], data: dict[str, Any],
                        errors: list[tuple[str, str]]) -> None:
        rid = raw.get("id")
        if _empty(rid):
            errors.append(("id", "fehlt — jede Zeile braucht eine eindeutige id"))
        elif not ID_PATTERN.fullmatch(str(rid).strip()):
            errors.append(
                ("id", f"{rid!r} ungültig — erlaubt sind 1–64 Zeichen A–Z a–z 0–9 . _ : -"))
        else:
            data["id"] = str(rid).strip()
        kind = raw.get("kind")
        if _empty(kind):
            errors.append(("kind", "fehlt — erlaubt: " + ", ".join(KINDS)))
        elif str(kind).strip().lower() not in KINDS:
            errors.append(("kind", f"unbekannte Art {kind!r} — erlaubt: " + ", ".join(KINDS)))
        else:
            data["kind"] = str(kind).strip().lower()
        for name in ("name", "description"):
            if name not in data and not any(f == name for f, _ in errors):
                errors.append((name, "fehlt — Pflichtfeld"))
        if "email" in data and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", data["email"]):
            errors.append(("email", f"{data['email']!r} ist keine E-Mail-Adresse"))
        if "website" in data and not re.match(r"https?://\S+$", data["website"]):
            errors.append(("website", "muss mit http:// oder https:// beginnen"))
        if "postcode" in data and not re.fullmatch(r"\d{5}", data["postcode"]):
            errors.append(("postcode", f"{data['postcode']!r} ist keine fünfstellige PLZ"))

    def _check_numbers(self, raw: Mapping[str, Any], data: dict[str, Any],
                       errors: list[tuple[str, str]]) -> None:
        for name, low, high in (("employees", 0, 10_000_000), ("founded", 1200, self.this_year)):
            if _empty(raw.get(name)):
                continue
            try:
                value = _as_int(raw[name])
            except (ValueError, TypeError):
                errors.append((name, f"{raw[name]!r} ist keine ganze Zahl"))
                continue
            if not low <= value <= high:
                errors.append((name, f"{value} liegt nicht zwischen {low} und {high}"))
            else:
                data[name] = value

    def _check_enums(self, raw: Mapping[str, Any], data: dict[str, Any],
                     errors: list[tuple[str, str]]) -> None:
        kind = data.get("kind")
        specs = (
            ("visibility", VISIBILITIES, None),
            ("career_stage", CAREER_STAGES, ("researcher",)),
            ("category", OFFERING_CATEGORIES, ("offering",)),
            ("gender", GENDERS, ("researcher",)),
        )
        for name, allowed, kinds in specs:
            if _empty(raw.get(name)):
                continue
            value = str(raw[name]).strip().lower()
            if value not in allowed:
                errors.append((name, f"{raw[name]!r} ungültig — erlaubt: " + ", ".join(allowed)))
            elif kinds and kind and kind not in kinds:
                errors.append((name, f"nur für {', '.join(kinds)} erlaubt, nicht für {kind}"))
            else:
                data[name] = value
        if "institution" in data and kind and kind not in ("chair", "researcher"):
            errors.append(("institution", f"nur für chair und researcher, nicht für {kind}"))
        if "parent" in data and kind:
            if kind not in PARENT_KINDS:
                errors.append(("parent", f"für {kind} nicht vorgesehen"))
            elif data["parent"] == data.get("id"):
                errors.append(("parent", "verweist auf sich selbst"))

    def _check_location(self, raw: Mapping[str, Any], data: dict[str, Any],
                        errors: list[tuple[str, str]]) -> None:
        has_lat, has_lon = not _empty(raw.get("lat")), not _empty(raw.get("lon"))
        if has_lat != has_lon:
            errors.append(("lat" if not has_lat else "lon", "lat und lon nur gemeinsam angeben"))
        if has_lat and has_lon:
            try:
                lat, lon = _as_float(raw["lat"]), _as_float(raw["lon"])
            except (ValueError, TypeError, OverflowError):
                errors.append(("lat", "lat/lon müssen Zahlen sein (Grad, z. B. 50.91)"))
                return
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                errors.append(("lat", f"Koordinaten {lat}, {lon} ungültig"))
                return
            if not self.allow_outside and not in_saxony_bbox(lat, lon):
                errors.append(("lat", f"Koordinaten {lat}, {lon} liegen außerhalb Sachsens — "
                                      "prüfen oder mit --allow-outside importieren"))
                return
            data["lat"], data["lon"] = lat, lon
        city = data.get("city")
        if city is None and not (has_lat and has_lon):
            errors.append(("city", "fehlt — Ort (city) oder lat und lon angeben"))
            return
        place = None
        if city is not None:
            try:
                place = self.gazetteer.resolve(city)
            except PlaceError as exc:
                errors.append(("city", exc.message))
                return
            data.setdefault("lat", place.lat)
            data.setdefault("lon", place.lon)
        district = self._district(data, place, errors)
        if district:
            data["district"] = district

    def _district(self, data: dict[str, Any], place: Any,
                  errors: list[tuple[str, str]]) -> str | None:
        given = data.get("district")
        computed = place.district if place is not None else None
        if computed is None and "lat" in data and in_saxony_bbox(data["lat"], data["lon"]):
            computed = self.gazetteer.district_at(data["lat"], data["lon"])
        if given is None:
            return computed
        d = find_district(given)
        if d is None:
            errors.append(("district", f"unbekannter Kreis {given!r} — z. B. 'Erzgebirgskreis', "
                                       "'Landkreis Mittelsachsen', 'Leipzig'"))
            return None
        if place is not None and d.name != place.district:
            errors.append(("district", f"{given!r} passt nicht zum Ort {place.name!r} "
                                       f"(liegt in {place.district})"))
            return None
        return d.name
