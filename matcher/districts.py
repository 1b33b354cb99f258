"""Saxony's 13 districts (10 Landkreise, 3 kreisfreie Städte) and name matching for them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class District:
    """A Landkreis or kreisfreie Stadt."""

    name: str
    slug: str
    seat: str
    urban: bool
    aliases: tuple[str, ...] = ()


DISTRICTS: tuple[District, ...] = (
    District("Chemnitz", "chemnitz", "Chemnitz", True, ("Stadt Chemnitz",)),
    District("Dresden", "dresden", "Dresden", True, ("Stadt Dresden",)),
    District("Leipzig", "leipzig", "Leipzig", True, ("Stadt Leipzig",)),
    District("Landkreis Bautzen", "bautzen", "Bautzen", False, ("Bautzen", "LK Bautzen")),
    District("Erzgebirgskreis", "erzgebirgskreis", "Annaberg-Buchholz", False, ("Erzgebirge",)),
    District("Landkreis Görlitz", "goerlitz", "Görlitz", False, ("Görlitz", "LK Görlitz")),
    District(
        "Landkreis Leipzig", "leipzig-land", "Borna", False, ("Leipziger Land", "LK Leipzig")
    ),
    District("Landkreis Meißen", "meissen", "Meißen", False, ("Meißen", "LK Meißen")),
    District(
        "Landkreis Mittelsachsen", "mittelsachsen", "Freiberg", False, ("Mittelsachsen",)
    ),
    District(
        "Landkreis Nordsachsen", "nordsachsen", "Torgau", False, ("Nordsachsen",)
    ),
    District(
        "Landkreis Sächsische Schweiz-Osterzgebirge",
        "saechsische-schweiz-osterzgebirge",
        "Pirna",
        False,
        ("Sächsische Schweiz-Osterzgebirge", "Sächsische Schweiz", "Osterzgebirge", "SSOE"),
    ),
    District("Vogtlandkreis", "vogtlandkreis", "Plauen", False, ("Vogtland",)),
    District("Landkreis Zwickau", "zwickau", "Zwickau", False, ("Zwickau", "LK Zwickau")),
)

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def fold(text: str) -> str:
    """Lower-case, spell umlauts as ae/oe/ue/ss and squeeze everything else to single spaces."""
    text = unicodedata.normalize("NFC", text).lower().translate(_UMLAUTS)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


_DISTRICT_KEYS: dict[str, District] = {}
for _d in DISTRICTS:
    for _key in (_d.name, _d.slug, *_d.aliases):
        _DISTRICT_KEYS.setdefault(fold(_key), _d)


def find_district(name: str) -> District | None:
    """Return the district a name, slug or common alias stands for, or ``None``.

    A bare city name of a kreisfreie Stadt ("Leipzig") means the city, not the Landkreis.
    """
    key = fold(name)
    for prefix in ("landkreis ", "lk ", "kreis ", "kreisfreie stadt "):
        if key.startswith(prefix) and key not in _DISTRICT_KEYS:
            key = key[len(prefix):]
    return _DISTRICT_KEYS.get(key)


def district_by_name(name: str) -> District:
    """Return the district with this exact canonical name (KeyError otherwise)."""
    for d in DISTRICTS:
        if d.name == name:
            return d
    raise KeyError(name)
