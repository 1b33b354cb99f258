"""Seeded synthetic profiles for scale benchmarks only (never the demo corpus)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from matcher.errors import PlaceError
from matcher.geo import Gazetteer

_TOPICS = [
    ("Laserstrahlschweißen", "Schweißnähte", "Verzug dünner Bleche"),
    ("Galvanik", "Korrosionsschutz", "Chrom(VI)-Ersatz"),
    ("Faserverbund", "Leichtbau", "CFK-Bauteile"),
    ("3D-Druck", "additive Fertigung", "Metallpulver"),
    ("CNC-Fräsen", "Zerspanung", "Werkzeugverschleiß"),
    ("Spritzguss", "Rezyklate", "Kunststoffteile"),
    ("technische Textilien", "Vliesstoffe", "Textilrecycling"),
    ("Leiterplatten", "Mikroelektronik", "Baugruppenprüfung"),
    ("Sensorik", "Zustandsüberwachung", "vorausschauende Wartung"),
    ("Bildverarbeitung", "optische Inspektion", "Oberflächenfehler"),
    ("maschinelles Lernen", "Qualitätsprognose", "Prozessdaten"),
    ("IT-Sicherheit", "Vernetzung alter Maschinen", "ERP-Einführung"),
    ("Robotik", "Cobots", "Montageautomatisierung"),
    ("Wasserstoff", "Elektrolyse", "Abwärmenutzung"),
    ("Batterierecycling", "Rohstoffe", "Kreislaufwirtschaft"),
    ("Lebensmittelsicherheit", "Haltbarkeit", "Verpackung"),
    ("Holzwerkstoffe", "Möbelbau", "Lackierung"),
    ("Klebstoffe", "Polymerchemie", "Keramik"),
    ("Intralogistik", "Tourenplanung", "Lieferketten"),
    ("Fachkräftesicherung", "Weiterbildung", "Ergonomie"),
]
_FORMS = ["GmbH", "GmbH & Co. KG", "e.K.", "AG", "UG"]
_STEMS = ["Präzisions", "Metall", "Kunststoff", "Textil", "Sensor", "Anlagen", "Werkzeug",
          "Oberflächen", "Elektronik", "Holz", "Energie", "Daten"]
_SUFFIX = ["technik", "bau", "werk", "service", "systeme", "fertigung"]
_KINDS = [("company", 0.62), ("startup", 0.08), ("chair", 0.06), ("researcher", 0.18),
          ("offering", 0.06)]


def _resolves(gazetteer: Gazetteer, name: str) -> bool:
    try:
        gazetteer.resolve(name)
    except PlaceError:
        return False
    return True


def generate_profiles(n: int, gazetteer: Gazetteer, seed: int = 42) -> Iterator[dict[str, Any]]:
    """Yield ``n`` synthetic import records; the same seed gives the same records."""
    rng = random.Random(seed)
    towns = sorted(p.name for p in gazetteer.municipalities() if _resolves(gazetteer, p.name))
    kinds, weights = zip(*_KINDS, strict=True)
    for i in range(n):
        kind = rng.choices(kinds, weights)[0]
        a, b = rng.sample(_TOPICS, 2)
        town = rng.choice(towns)
        name = (f"{town.split('/')[0]}er {rng.choice(_STEMS)}{rng.choice(_SUFFIX)} "
                f"{rng.choice(_FORMS)}")
        rec: dict[str, Any] = {
            "id": f"syn-{i:07d}", "kind": kind, "name": name, "city": town,
            "description": (f"Wir arbeiten an {a[0]} und {b[1]}. Schwerpunkt sind {a[1]} "
                            f"sowie {b[0]} für Kunden aus Sachsen."),
            "offers": f"Know-how in {a[0]}, Versuche zu {a[2]}.",
            "needs": f"Partner für {b[2]} und {b[0]}.",
            "keywords": [a[0], b[0]],
        }
        if kind in ("company", "startup"):
            rec["employees"] = rng.randint(3, 400)
            rec["founded"] = rng.randint(1900, 2024)
        yield rec
