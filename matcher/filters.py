"""Hard filters on candidate profiles: kinds, radius around a point, region, visibility."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from matcher.geo import distances_km
from matcher.regions import Region


@dataclass(frozen=True)
class Filters:
    """What a result must satisfy. ``None`` means no constraint."""

    kinds: tuple[str, ...] | None = None
    center: tuple[float, float] | None = None
    radius_km: float | None = None
    region: Region | None = None
    logged_in: bool = False
    exclude_ids: frozenset[str] = frozenset()


class ProfileTable:
    """Columns of all profiles needed for filtering and ranking, as arrays in pk order."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.ids = [r["id"] for r in rows]
        self.pos = {pid: i for i, pid in enumerate(self.ids)}
        self.pks = np.array([r["pk"] for r in rows], dtype=np.int64)
        self.pk_pos = {int(pk): i for i, pk in enumerate(self.pks)}
        self.kinds = np.array([r["kind"] for r in rows], dtype=object)
        self.visibility = np.array([r["visibility"] for r in rows], dtype=object)
        self.district = np.array([r["district"] for r in rows], dtype=object)
        self.parent = [r["parent"] for r in rows]
        self.lat = np.array([np.nan if r["lat"] is None else r["lat"] for r in rows])
        self.lon = np.array([np.nan if r["lon"] is None else r["lon"] for r in rows])

    def __len__(self) -> int:
        return len(self.ids)

    def distances(self, center: tuple[float, float]) -> np.ndarray:
        """Distance in km from ``center`` to every profile (NaN without coordinates)."""
        return distances_km(center[0], center[1], self.lat, self.lon)

    def mask(self, f: Filters) -> np.ndarray:
        """Boolean mask of profiles that pass the filters."""
        if not hasattr(self, "_public"):  # comparisons of strings once, not per request
            self._public = self.visibility == "public"
            self._internal = self.visibility == "internal"
        ok = (self._public | self._internal) if f.logged_in else self._public.copy()
        if f.kinds is not None:
            ok &= np.isin(self.kinds, list(f.kinds))
        if f.center is not None and f.radius_km is not None:
            with np.errstate(invalid="ignore"):
                ok &= self.distances(f.center) <= f.radius_km
        if f.region is not None:
            r = f.region
            if r.center is not None and r.radius_km is not None:
                with np.errstate(invalid="ignore"):
                    ok &= self.distances(r.center) <= r.radius_km
            else:
                ok &= np.isin(self.district, list(r.districts))
        for pid in f.exclude_ids:
            if pid in self.pos:
                ok[self.pos[pid]] = False
        return np.asarray(ok)
