"""Region overview: who is in a region (SMEs, researchers, offerings), what its SMEs need, and
which needs no researcher within reach answers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matcher.filters import Filters
from matcher.regions import Region, district_regions, find_region
from matcher.slam import SlamOptions, SlamPlanner
from matcher.themes import Theme

#: Display groups of the overview, in order: label → profile kinds counted in it.
GROUPS: dict[str, tuple[str, ...]] = {
    "KMU": ("company",),
    "Start-ups": ("startup",),
    "Lehrstühle": ("chair",),
    "Forschende": ("researcher",),
    "TGZ": ("tgz",),
    "Angebote": ("offering",),
}


@dataclass
class RegionCounts:
    """Visible profiles per kind in one region."""

    region: Region
    by_kind: Counter[str] = field(default_factory=Counter)

    def groups(self) -> dict[str, int]:
        return {label: sum(self.by_kind[k] for k in kinds) for label, kinds in GROUPS.items()}


@dataclass
class RegionOverview:
    counts: RegionCounts
    themes: list[Theme]
    gaps: list[Theme]

    def as_dict(self) -> dict[str, Any]:
        r = self.counts.region
        return {"name": r.name, "slug": r.slug, "counts": self.counts.groups(),
                "themes": [t.as_dict() for t in self.themes],
                "gaps": [{"label": t.label, "weight": round(t.weight, 2), "smes": t.smes}
                         for t in self.gaps]}


def _kind_counts(planner: SlamPlanner, region: Region, logged_in: bool) -> Counter[str]:
    """Visible profiles per kind in ``region`` (from the loaded profile table)."""
    table = planner.m.table
    kinds, counts = np.unique(table.kinds[table.mask(Filters(region=region,
                                                               logged_in=logged_in))],
                              return_counts=True)
    return Counter({str(k): int(n) for k, n in zip(kinds, counts, strict=True)})


def region_counts(planner: SlamPlanner, logged_in: bool = False) -> list[RegionCounts]:
    """Visible profiles per kind for each of the 13 Kreise."""
    return [RegionCounts(r, _kind_counts(planner, r, logged_in)) for r in district_regions()]


def region_overview(planner: SlamPlanner, region: str | Region,
                    opts: SlamOptions | None = None) -> RegionOverview:
    """Counts, demand themes and gaps of one region; a gap is a theme that no researcher within
    ``opts.max_travel_km`` of the venue serves.

    Raises:
        NotFoundError: unknown region.
    """
    opts = opts or SlamOptions()
    reg = region if isinstance(region, Region) else find_region(
        region, planner.settings.regions, planner.m.gazetteer)
    counts = RegionCounts(reg, _kind_counts(planner, reg, opts.logged_in))
    lineup = planner.plan(reg, opts)
    return RegionOverview(counts, lineup.themes, lineup.gaps)
