"""Regions: the 13 districts plus custom regions from settings (list of districts or circle)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from matcher.districts import DISTRICTS, find_district, fold
from matcher.errors import ConfigError, NotFoundError
from matcher.geo import Gazetteer, distance_km


@dataclass(frozen=True)
class Region:
    """A named area: a set of districts, or a centre with a radius in km."""

    name: str
    slug: str
    districts: tuple[str, ...] = ()
    center: tuple[float, float] | None = None
    radius_km: float | None = None

    def contains(self, lat: float | None, lon: float | None, district: str | None) -> bool:
        """True when a place (coordinates and/or district) lies in the region."""
        if self.center is not None and self.radius_km is not None:
            if lat is None or lon is None:
                return False
            return distance_km(self.center[0], self.center[1], lat, lon) <= self.radius_km
        return district in self.districts

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "slug": self.slug}
        if self.districts:
            out["districts"] = list(self.districts)
        if self.center:
            out["center"] = {"lat": self.center[0], "lon": self.center[1]}
            out["radius_km"] = self.radius_km
        return out


def district_regions() -> list[Region]:
    """One region per district, in the canonical order."""
    return [Region(d.name, d.slug, (d.name,)) for d in DISTRICTS]


def custom_regions(spec: Mapping[str, Any], gazetteer: Gazetteer) -> list[Region]:
    """Build the custom regions declared in the ``regions`` setting.

    Raises:
        ConfigError: a region names an unknown district or place, or has no extent.
    """
    out = []
    for name, body in spec.items():
        slug = fold(name).replace(" ", "-")
        if "districts" in body:
            names = []
            for raw in body["districts"]:
                d = find_district(raw)
                if d is None:
                    raise ConfigError(f"Region {name!r}: unbekannter Kreis {raw!r}.")
                names.append(d.name)
            out.append(Region(name, slug, tuple(names)))
        elif "center" in body and "radius_km" in body:
            p = gazetteer.resolve(str(body["center"]))
            radius = float(body["radius_km"])
            out.append(Region(name, slug, center=(p.lat, p.lon), radius_km=radius))
        else:
            raise ConfigError(
                f"Region {name!r}: braucht \"districts\" oder \"center\" und \"radius_km\"."
            )
    return out


def circle_region(place: str, radius_km: float, gazetteer: Gazetteer) -> Region:
    """An ad-hoc region: everything within ``radius_km`` of a place.

    Raises:
        ConfigError: radius not between 1 and 300 km.
        PlaceError: unknown or ambiguous place.
    """
    if not 1 <= radius_km <= 300:
        raise ConfigError("Umkreis muss zwischen 1 und 300 km liegen.")
    p = gazetteer.resolve(place)
    return Region(f"Umkreis {radius_km:g} km um {p.name}", f"{fold(p.name).replace(' ', '-')}-"
                  f"{radius_km:g}km", center=(p.lat, p.lon), radius_km=radius_km)


def all_regions(spec: Mapping[str, Any], gazetteer: Gazetteer) -> list[Region]:
    """The 13 districts followed by the custom regions."""
    return district_regions() + custom_regions(spec, gazetteer)


def find_region(name: str, spec: Mapping[str, Any], gazetteer: Gazetteer) -> Region:
    """Find a region by name, slug or district alias.

    Raises:
        NotFoundError: no region of that name; the message lists the known ones.
    """
    key = fold(name)
    regions = all_regions(spec, gazetteer)
    for r in regions:
        if key in (fold(r.name), fold(r.slug)):
            return r
    d = find_district(name)
    if d is not None:
        return next(r for r in regions if r.name == d.name)
    known = ", ".join(r.name for r in regions)
    raise NotFoundError(f"Unbekannte Region {name!r}. Bekannt sind: {known}.")
