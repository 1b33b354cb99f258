"""Inno Slam line-ups: researchers chosen from what a region's SMEs need, and whole tours.

Speakers maximise weighted theme coverage (facility location: each theme counts with the best
coverage any chosen speaker gives it, so five talks on one theme add little), greedily under
constraints: at most ``max_per_institution`` per institution, travel to the venue within
``max_travel_km``, exclusions and bookings. Deterministic for the same data and settings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matcher.errors import MatcherError
from matcher.geo import distance_km
from matcher.models import Profile
from matcher.privacy import visible_to
from matcher.regions import Region, all_regions, district_regions, find_region
from matcher.search import Matcher
from matcher.themes import NeedSentence, Theme, cluster_needs

YOUNG = ("doctoral", "postdoc", "group_leader", "junior_professor")


@dataclass
class SlamOptions:
    """Knobs of one line-up (defaults from the settings)."""

    size: int = 5
    max_per_institution: int = 2
    max_travel_km: float = 160.0
    allow_professors: bool = False
    exclude: frozenset[str] = frozenset()
    booked: Counter[str] = field(default_factory=Counter)
    max_stops_per_person: int = 1
    venue: str | None = None
    logged_in: bool = False


@dataclass
class Speaker:
    profile: Profile
    themes: list[str]
    serves: list[Profile]
    distance_km: float | None
    gain: float
    alternatives: list[str] = field(default_factory=list)

    @property
    def why(self) -> str:
        topics = ", ".join(f"„{t}“" for t in self.themes[:3]) or "ergänzende Themen"
        who = ", ".join(p.name for p in self.serves[:3])
        dist = f" Anreise {self.distance_km:.0f} km." if self.distance_km is not None else ""
        return f"Deckt {topics} ab; besonders relevant für {who}.{dist}" if who else (
            f"Deckt {topics} ab.{dist}")

    def as_dict(self) -> dict[str, Any]:
        p = self.profile
        return {"id": p.id, "name": p.name, "institution": p.institution,
                "career_stage": p.career_stage, "themes": self.themes,
                "serves": [s.id for s in self.serves],
                "serves_names": [s.name for s in self.serves],
                "distance_km": None if self.distance_km is None else round(self.distance_km, 1),
                "why": self.why, "alternatives": self.alternatives}


@dataclass
class Lineup:
    region: Region
    venue: Profile | None
    venue_point: tuple[float, float]
    themes: list[Theme]
    speakers: list[Speaker]
    coverage: float
    gaps: list[Theme]

    def as_dict(self) -> dict[str, Any]:
        v = self.venue
        return {
            "region": self.region.name,
            "venue": ({"id": v.id, "name": v.name, "city": v.city, "parent": v.parent}
                      if v else {"id": None, "name": "Kreisstadt (kein Veranstaltungsraum "
                                 "im Datenbestand)", "lat": self.venue_point[0],
                                 "lon": self.venue_point[1]}),
            "themes": [t.as_dict() for t in self.themes],
            "speakers": [s.as_dict() for s in self.speakers],
            "coverage": round(self.coverage, 3),
            "gaps": [{"label": t.label, "weight": round(t.weight, 2), "smes": t.smes}
                     for t in self.gaps],
        }


class SlamPlanner:
    """Plans line-ups and tours on top of a loaded :class:`Matcher` (shares its index)."""

    def __init__(self, matcher: Matcher) -> None:
        self.m = matcher
        self.settings = matcher.settings
        self.covered_at = float(self.settings.slam_covered_at)

    # -- demand ---------------------------------------------------------------
    def smes(self, region: Region, logged_in: bool = False) -> list[Profile]:
        return [p for _, p in self.m.store.iter_profiles(("company", "startup"))
                if visible_to(p, logged_in) and region.contains(p.lat, p.lon, p.district)]

    def demand(self, region: Region, logged_in: bool = False) -> list[Theme]:
        """The region's demand themes, heaviest first."""
        needs: list[NeedSentence] = []
        for p in self.smes(region, logged_in):
            sent = self.m.sentences(p.id)
            vecs, texts = sent.of(0)
            if not texts:
                vecs, texts = sent.of(2)
            needs.extend(NeedSentence(p.id, t, v) for t, v in zip(texts, vecs, strict=True))
        return cluster_needs(needs)

    # -- candidates -------------------------------------------------------------
    def _pool(self, opts: SlamOptions, venue: tuple[float, float]) -> list[tuple[Profile, float]]:
        stages = (*YOUNG, "professor") if opts.allow_professors else YOUNG
        out = []
        for _, p in self.m.store.iter_profiles(("researcher",)):
            if (p.id in opts.exclude or p.career_stage not in stages
                    or not visible_to(p, opts.logged_in)
                    or opts.booked[p.id] >= opts.max_stops_per_person
                    or p.lat is None or p.lon is None):
                continue
            d = distance_km(venue[0], venue[1], p.lat, p.lon)
            if d <= opts.max_travel_km:
                out.append((p, d))
        return sorted(out, key=lambda x: x[0].id)

    def _coverage(self, pool: list[tuple[Profile, float]], themes: list[Theme]) -> np.ndarray:
        """cov[r, t]: how well researcher r answers theme t (mean over the theme's need
        sentences of the best match among r's offer and description sentences)."""
        cov = np.zeros((len(pool), len(themes)))
        for i, (p, _) in enumerate(pool):
            vecs, _ = self.m.sentences(p.id).of(1, 2)
            if not len(vecs):
                continue
            for j, t in enumerate(themes):
                cov[i, j] = float((t.vectors @ vecs.T).max(axis=1).mean())
        return cov

    # -- venue --------------------------------------------------------------------
    def venue_for(self, region: Region, smes: list[Profile], choice: str | None,
                  logged_in: bool) -> tuple[Profile | None, tuple[float, float]]:
        """An event space of a TGZ in the region nearest the SMEs' centre; else the nearest
        one; else the district seat. ``choice`` may name an offering id or a place."""
        if choice:
            try:
                v = self.m.store.get(choice)
                if visible_to(v, logged_in) and v.lat is not None and v.lon is not None:
                    return v, (v.lat, v.lon)
            except MatcherError:
                pass
            place = self.m.gazetteer.resolve(choice)
            return None, (place.lat, place.lon)
        pts = [(p.lat, p.lon) for p in smes if p.lat is not None and p.lon is not None]
        if pts:
            centre = (float(np.mean([a for a, _ in pts])), float(np.mean([b for _, b in pts])))
        else:
            seat = self.m.gazetteer.resolve(region.name.replace("Landkreis ", ""))
            centre = (seat.lat, seat.lon)
        spaces = [p for _, p in self.m.store.iter_profiles(("offering",))
                  if p.category == "event_space" and visible_to(p, logged_in)
                  and p.lat is not None and p.lon is not None]
        if not spaces:
            return None, centre
        def key(p: Profile) -> tuple[bool, float, str]:
            inside = region.contains(p.lat, p.lon, p.district)
            return (not inside, distance_km(centre[0], centre[1], p.lat or 0, p.lon or 0), p.id)
        best = min(spaces, key=key)
        return best, (best.lat or centre[0], best.lon or centre[1])

    # -- selection ----------------------------------------------------------------
    def plan(self, region: str | Region, opts: SlamOptions | None = None) -> Lineup:
        """A line-up for one region.

        Raises:
            MatcherError: size out of 1..10, or unknown region.
        """
        opts = opts or SlamOptions()
        if not 1 <= opts.size <= 10:
            raise MatcherError("Ein Inno Slam hat 1 bis 10 Vortragende (üblich: 4–6).")
        reg = region if isinstance(region, Region) else find_region(
            region, self.settings.regions, self.m.gazetteer)
        smes = self.smes(reg, opts.logged_in)
        themes = self.demand(reg, opts.logged_in)
        venue, point = self.venue_for(reg, smes, opts.venue, opts.logged_in)
        pool = self._pool(opts, point)
        cov = self._coverage(pool, themes)
        weights = np.array([t.weight for t in themes])
        chosen = self._greedy(pool, cov, weights, opts)
        speakers = [self._speaker(i, pool, cov, themes, chosen, weights, opts) for i in chosen]
        best = cov[chosen].max(axis=0) if chosen and len(themes) else np.zeros(len(themes))
        total = float(weights.sum()) or 1.0
        coverage = float(weights[best >= self.covered_at].sum() / total) if len(themes) else 0.0
        reachable = cov.max(axis=0) if len(pool) else np.zeros(len(themes))
        gaps = [t for t, r in zip(themes, reachable, strict=True) if r < self.covered_at]
        return Lineup(reg, venue, point, themes, speakers, coverage, gaps)

    def _objective(self, rows: list[int], cov: np.ndarray, weights: np.ndarray) -> float:
        if not rows or not len(weights):
            return 0.0
        return float((weights * cov[rows].max(axis=0)).sum())

    def _greedy(self, pool: list[tuple[Profile, float]], cov: np.ndarray, weights: np.ndarray,
                opts: SlamOptions) -> list[int]:
        chosen: list[int] = []
        per_inst: Counter[str] = Counter()
        current = 0.0
        while len(chosen) < min(opts.size, len(pool)):
            best, best_gain = -1, -1.0
            for i, (p, _) in enumerate(pool):
                if i in chosen or per_inst[p.institution or p.id] >= opts.max_per_institution:
                    continue
                gain = self._objective([*chosen, i], cov, weights) - current
                gain -= self._balance_penalty(p, [pool[j][0] for j in chosen])
                if gain > best_gain + 1e-12:
                    best, best_gain = i, gain
            if best < 0:
                break
            chosen.append(best)
            per_inst[pool[best][0].institution or pool[best][0].id] += 1
            current = self._objective(chosen, cov, weights)
        return chosen

    def _balance_penalty(self, p: Profile, chosen: list[Profile]) -> float:
        """A small nudge towards mixed career stages and genders (where known)."""
        w = float(self.settings.slam_balance_weight)
        same_stage = sum(1 for c in chosen if c.career_stage == p.career_stage)
        same_gender = sum(1 for c in chosen if p.gender and c.gender == p.gender)
        return w * (max(0, same_stage - 1) + max(0, same_gender - 2))

    def _speaker(self, i: int, pool: list[tuple[Profile, float]], cov: np.ndarray,
                 themes: list[Theme], chosen: list[int], weights: np.ndarray,
                 opts: SlamOptions) -> Speaker:
        p, dist = pool[i]
        own = [j for j, t in enumerate(themes) if cov[i, j] >= self.covered_at
               and cov[i, j] >= cov[chosen, j].max() - 1e-9]
        own.sort(key=lambda j: -weights[j] * cov[i, j])
        sme_ids = list(dict.fromkeys(s for j in own for s in themes[j].smes))
        vecs, _ = self.m.sentences(p.id).of(1, 2)
        def fit(sme_id: str) -> float:
            nv, _ = self.m.sentences(sme_id).of(0)
            return float((nv @ vecs.T).max()) if len(nv) and len(vecs) else 0.0
        serves = [self.m.store.get(s) for s in sorted(sme_ids, key=lambda s: (-fit(s), s))[:3]]
        rest = [j for j in chosen if j != i]
        base = self._objective(rest, cov, weights)
        alts = sorted((k for k in range(len(pool)) if k not in chosen),
                      key=lambda k: (-self._objective([*rest, k], cov, weights), pool[k][0].id))
        return Speaker(p, [themes[j].label for j in own], serves, dist,
                       self._objective([*rest, i], cov, weights) - base,
                       [pool[k][0].id for k in alts[:3]])

    def tour(self, regions: Iterable[str] | None = None,
             opts: SlamOptions | None = None) -> list[Lineup]:
        """One stop per region (default: all 13 Kreise); a researcher speaks at no more than
        ``max_stops_per_person`` stops."""
        opts = opts or SlamOptions()
        regs = ([find_region(r, self.settings.regions, self.m.gazetteer) for r in regions]
                if regions else district_regions())
        booked: Counter[str] = Counter(opts.booked)
        out = []
        for reg in regs:
            lineup = self.plan(reg, SlamOptions(**{**opts.__dict__, "booked": booked}))
            booked.update(s.profile.id for s in lineup.speakers)
            out.append(lineup)
        return out


__all__ = ["Lineup", "SlamOptions", "SlamPlanner", "Speaker", "all_regions"]
