"""Hard filters on candidate profiles: kinds, radius around a point, region, visibility."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from matcher.geo import bounding_box, distances_km
from matcher.lru import LRU
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


MASK_CACHE = 32


# the columns of the profiles table a ProfileTable holds
TABLE_COLUMNS = ("pk", "id", "kind", "visibility", "district", "parent", "lat", "lon")


class ProfileTable:
    """Columns of all profiles needed for filtering and ranking, as arrays in pk order."""

    def __init__(self, rows: list[dict[str, Any]] | Mapping[str, list[Any]]) -> None:
        """``rows``: one mapping per profile, or the columns (``Store.table_columns``)."""
        cols = rows if isinstance(rows, Mapping) else {k: [r[k] for r in rows]
                                                       for k in TABLE_COLUMNS}
        self.ids = list(cols["id"])
        self.pos = {pid: i for i, pid in enumerate(self.ids)}
        self.pks = np.array(cols["pk"], dtype=np.int64)
        self.pk_pos = {int(pk): i for i, pk in enumerate(self.pks)}
        self.kinds = np.array(cols["kind"], dtype=object)
        self.visibility = np.array(cols["visibility"], dtype=object)
        self.district = np.array(cols["district"], dtype=object)
        self.parent = list(cols["parent"])
        self.lat = np.array([np.nan if v is None else v for v in cols["lat"]], dtype=np.float64)
        self.lon = np.array([np.nan if v is None else v for v in cols["lon"]], dtype=np.float64)
        self._public = self.visibility == "public"
        self._internal = self.visibility == "internal"
        # kinds and districts as small integer codes: a filter is one table lookup per row
        self._kind_codes, self._kind_of = _codes(self.kinds)
        self._district_codes, self._district_of = _codes(self.district)
        self._masks: LRU[Filters, np.ndarray] = LRU(MASK_CACHE)

    def __len__(self) -> int:
        return len(self.ids)

    def within(self, center: tuple[float, float], radius_km: float) -> np.ndarray:
        """Profiles at most ``radius_km`` great-circle distance from ``center`` (none without
        coordinates); only those inside the circle's bounding box are measured."""
        box = bounding_box(center, radius_km)
        ok = np.zeros(len(self.ids), dtype=bool)
        with np.errstate(invalid="ignore"):
            near = np.flatnonzero((self.lat >= box[0]) & (self.lat <= box[2])
                                  & (self.lon >= box[1]) & (self.lon <= box[3]))
            ok[near] = distances_km(center[0], center[1], self.lat[near],
                                    self.lon[near]) <= radius_km
        return ok

    def of_kinds(self, kinds: tuple[str, ...]) -> np.ndarray:
        """Boolean mask of the profiles of ``kinds``, whatever their visibility."""
        return _lookup(self._kind_codes, self._kind_of, kinds)

    def mask(self, f: Filters) -> np.ndarray:
        """Boolean mask of profiles that pass the filters (read-only; the last few masks are
        kept, a request asks for the same one several times)."""
        return self._masks.get(f, lambda: self._compute_mask(f))

    def _compute_mask(self, f: Filters) -> np.ndarray:
        ok = (self._public | self._internal) if f.logged_in else self._public.copy()
        if f.kinds is not None:
            ok &= _lookup(self._kind_codes, self._kind_of, f.kinds)
        if f.center is not None and f.radius_km is not None:
            ok &= self.within(f.center, f.radius_km)
        if f.region is not None:
            r = f.region
            if r.center is not None and r.radius_km is not None:
                ok &= self.within(r.center, r.radius_km)
            else:
                ok &= _lookup(self._district_codes, self._district_of, r.districts)
        for pid in f.exclude_ids:
            if pid in self.pos:
                ok[self.pos[pid]] = False
        ok.flags.writeable = False
        return np.asarray(ok)


def _codes(values: np.ndarray) -> tuple[dict[Any, int], np.ndarray]:
    """Each distinct value's code, and the code of every entry."""
    codes: dict[Any, int] = {}
    of = np.array([codes.setdefault(v, len(codes)) for v in values], dtype=np.int32)
    return codes, of


def _lookup(codes: dict[Any, int], of: np.ndarray, wanted: tuple[str, ...]) -> np.ndarray:
    """Rows whose value is one of ``wanted``."""
    table = np.zeros(len(codes) + 1, dtype=bool)
    for value in wanted:
        if value in codes:
            table[codes[value]] = True
    return table[of]
