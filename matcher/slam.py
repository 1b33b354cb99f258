"""Inno Slam line-ups: researchers chosen from what a region's SMEs need, and whole tours.

Speakers maximise weighted theme coverage (facility location: each theme counts with the best
coverage any chosen speaker gives it, so five talks on one theme add little), greedily under
constraints: at most ``max_per_institution`` per institution, travel to the venue within
``max_travel_km``, exclusions and bookings. Deterministic for the same data and settings.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matcher.districts import find_district
from matcher.errors import MatcherError
from matcher.filters import Filters
from matcher.geo import distance_km
from matcher.models import Profile
from matcher.privacy import visible_to
from matcher.regions import Region, district_regions, find_region
from matcher.search import Matcher
from matcher.text import analyze, needs_text
from matcher.themes import Theme, cluster_smes

SME_KINDS = ("company", "startup")
YOUNG = ("doctoral", "postdoc", "group_leader", "junior_professor")
PLANS_KEPT = 256  # line-ups a planner remembers for the next snapshot


@dataclass
class SlamOptions:
    """Knobs of one line-up (defaults from the settings)."""

    size: int = 5
    max_per_institution: int = 2
    max_travel_km: float = 160.0
    allow_professors: bool = False
    exclude: frozenset[str] = frozenset()
    pinned: tuple[str, ...] = ()
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
    alternative_details: list[dict[str, Any]] = field(default_factory=list)

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
                "why": self.why, "alternatives": self.alternatives,
                "alternative_details": self.alternative_details}


@dataclass
class Lineup:
    region: Region
    venue: Profile | None
    venue_point: tuple[float, float]
    themes: list[Theme]
    speakers: list[Speaker]
    coverage: float
    gaps: list[Theme]
    smes_read: int = 0  # SMEs whose needs were read (a sample where the region has more)
    smes_total: int = 0  # visible SMEs in the region

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
            "demand": {"smes": self.smes_total, "read": self.smes_read},
        }


class SlamPlanner:
    """Plans line-ups and tours on top of a loaded :class:`Matcher` (shares its index)."""

    def __init__(self, matcher: Matcher) -> None:
        self.m = matcher
        self.settings = matcher.settings
        self.covered_at = float(self.settings.slam_covered_at)
        self.floor = float(self.settings.slam_floor)
        self._bg: list[str] | None = None
        # Per planner, i.e. per index snapshot: event spaces and each region's demand.
        self._spaces: list[Profile] | None = None
        self._demand: dict[tuple[str, bool], tuple[list[Profile], np.ndarray, list[Theme]]] = {}
        self._region_smes: dict[tuple[str, bool], int] = {}
        # Line-ups made here (recent ones), and those of the planner before that may still hold
        self._plans: OrderedDict[str, Lineup] = OrderedDict()
        self._inherited: dict[str, Lineup] = {}
        self._plans_lock = threading.Lock()

    def inherit(self, previous: SlamPlanner, changed: Iterable[str]) -> None:
        """Take over the line-ups ``previous`` (the planner of the snapshot before this one)
        made, where they provably come out the same here. Call only when the two snapshots
        differ in nothing but the texts (needs, offers, description, keywords) or unranked
        fields of the ``changed`` profiles, with the same keyword vocabulary and exact vectors.

        Nothing is taken when a researcher changed (their texts rank the speakers). A line-up
        is taken only if none of the changed profiles appears in it (as SME, speaker or venue),
        and, when it is asked for, only if the region's demand themes come out the same (the
        needs of SMEs all over the corpus, or their sample, count in each region's theme
        labels)."""
        changed = set(changed)
        table = self.m.table
        if any(pid not in table.pos or table.kinds[table.pos[pid]] == "researcher"
               for pid in changed):
            return
        with previous._plans_lock:
            plans = [*previous._inherited.items(), *previous._plans.items()]
        kept = [(key, lineup) for key, lineup in plans if not changed & _profile_ids(lineup)]
        with self._plans_lock:
            self._inherited = dict(kept[-PLANS_KEPT:])  # the most recent ones

    def _remember(self, key: str, lineup: Lineup) -> Lineup:
        with self._plans_lock:
            self._plans[key] = lineup
            self._plans.move_to_end(key)
            if len(self._plans) > PLANS_KEPT:
                self._plans.popitem(last=False)
        return lineup

    # -- demand ---------------------------------------------------------------
    def smes(self, region: Region, logged_in: bool = False) -> list[Profile]:
        """The SMEs whose needs make up the region's demand: all visible ones, or an evenly
        spread sample of ``slam_sample`` where the region has more."""
        return self.demand(region, logged_in)[0]

    def demand_size(self, region: Region, logged_in: bool = False) -> tuple[int, int]:
        """(SMEs read for the region's demand, visible SMEs in the region)."""
        smes = self.demand(region, logged_in)[0]
        return len(smes), self._region_smes.get((repr(region), logged_in), len(smes))

    def _sample(self, rows: np.ndarray) -> np.ndarray:
        """At most ``slam_sample`` of the table ``rows`` (ascending): those whose ids hash
        lowest, a choice that is evenly spread and stays put when other profiles change."""
        cap = int(self.settings.slam_sample)
        if len(rows) <= cap:
            return rows
        ids = self.m.table.ids
        keys = np.array([int.from_bytes(hashlib.blake2b(ids[i].encode(), digest_size=8)
                                        .digest(), "big") for i in rows], dtype=np.uint64)
        return np.sort(rows[np.argsort(keys, kind="stable")[:cap]])

    def demand(self, region: Region, logged_in: bool = False) -> tuple[
            list[Profile], np.ndarray, list[Theme]]:
        """The region's SMEs (or their sample, :meth:`smes`), the vectors of their needs, and
        their demand themes, weighted by the SMEs they stand for (computed once per region
        and planner; callers must not change them)."""
        key = (repr(region), logged_in)
        if key not in self._demand:
            table = self.m.table
            rows = np.flatnonzero(table.mask(Filters(kinds=SME_KINDS, region=region,
                                                     logged_in=logged_in)))
            sample = self._sample(rows)
            # the store has the last word on visibility (the table is the index's snapshot)
            smes = [p for p in self.m.store.get_many([table.ids[i] for i in sample])
                    if visible_to(p, logged_in)]
            needs = [needs_text(p) for p in smes]
            vectors = (self.m.encode_doc.many(needs) if smes
                       else np.zeros((0, 1), dtype=np.float32))
            themes = cluster_smes([p.id for p in smes], needs, vectors, self._background())
            for t in themes:  # a sampled SME stands for len(rows) / len(smes) of them
                t.weight *= len(rows) / max(len(smes), 1)
            self._region_smes[key] = len(rows)
            self._demand[key] = smes, vectors, themes
        return self._demand[key]

    def _background(self) -> list[str]:
        """The needs of the SMEs of the whole corpus (or their sample): how common a term
        is, for the theme labels."""
        if self._bg is None:
            table = self.m.table
            rows = self._sample(np.flatnonzero(table.of_kinds(SME_KINDS)))
            self._bg = [needs_text(p) for p in self.m.store.get_many(
                [table.ids[i] for i in rows])]
        return self._bg

    # -- candidates -------------------------------------------------------------
    def _pool(self, opts: SlamOptions, venue: tuple[float, float], vectors: np.ndarray,
              themes: Sequence[Theme]) -> list[tuple[Profile, float]]:
        """Researchers who may speak at ``venue``. Where more than ``slam_candidates`` are
        in reach, those nearest the demand (``vectors``, one search per theme and one for
        all) are taken."""
        stages = (*YOUNG, "professor") if opts.allow_professors else YOUNG
        table = self.m.table
        reach = table.mask(Filters(kinds=("researcher",), logged_in=opts.logged_in)) \
            & table.within(venue, opts.max_travel_km)
        rows = np.flatnonzero(reach)
        if len(rows) > int(self.settings.slam_candidates) and len(vectors):
            rows = self._nearest(rows, vectors, themes)
        out = []
        for p in self.m.store.get_many([table.ids[i] for i in rows]):
            if (p.id in opts.exclude or p.career_stage not in stages
                    or not visible_to(p, opts.logged_in)
                    or opts.booked[p.id] >= opts.max_stops_per_person
                    or p.lat is None or p.lon is None):
                continue
            out.append((p, distance_km(venue[0], venue[1], p.lat, p.lon)))
        return sorted(out, key=lambda x: x[0].id)

    def _nearest(self, rows: np.ndarray, vectors: np.ndarray,
                 themes: Sequence[Theme]) -> np.ndarray:
        """The table ``rows`` whose profile vectors are nearest the demand: the centre of
        each theme and of all needs, ``slam_candidates`` shared among these searches."""
        groups = [t.rows for t in themes if t.rows] + [list(range(len(vectors)))]
        centres = np.vstack([vectors[g].mean(axis=0) for g in groups]).astype(np.float32)
        centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
        k = max(1, int(self.settings.slam_candidates) // len(centres))
        _, pks = self.m.dense.search(centres, k, self.m.table.pks[rows])
        by_pk = self.m.table.pk_pos
        return np.array(sorted({by_pk[int(pk)] for pk in pks.ravel() if pk >= 0}),
                        dtype=np.int64)

    def _relevance(self, pool: list[tuple[Profile, float]], smes: list[Profile],
                   vectors: np.ndarray) -> np.ndarray:
        """rel[r, s]: how well researcher r answers SME s's needs (cosine of the needs to the
        researcher's profile vector plus the weighted keyword similarity, as in matching)."""
        if not pool or not smes:
            return np.zeros((len(pool), len(smes)))
        rows = [self.m.table.pos[p.id] for p, _ in pool]
        docs = self.m.index.docs.vectors(self.m.table.pks[rows])
        rel = docs @ vectors.T
        sparse_rows = [int(self.m._sparse_at[r]) for r in rows]
        known = [i for i, r in enumerate(sparse_rows) if r >= 0]
        keyword = self.m.index.sparse.scores_many(
            [analyze(needs_text(sme)) for sme in smes],
            np.array([sparse_rows[i] for i in known], dtype=np.int64))
        rel[known] += float(self.settings.sparse_weight) * keyword
        return rel

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
        elif region.center is not None:
            centre = region.center
        else:
            district = find_district(region.districts[0]) if region.districts else None
            seat = (self.m.gazetteer.seat(district) if district is not None
                    else self.m.gazetteer.resolve(region.name))
            centre = (seat.lat, seat.lon)
        spaces = [p for p in self._event_spaces() if visible_to(p, logged_in)
                  and p.lat is not None and p.lon is not None]
        if not spaces:
            return None, centre
        def key(p: Profile) -> tuple[bool, float, str]:
            inside = region.contains(p.lat, p.lon, p.district)
            return (not inside, distance_km(centre[0], centre[1], p.lat or 0, p.lon or 0), p.id)
        best = min(spaces, key=key)
        return best, (best.lat or centre[0], best.lon or centre[1])

    def _event_spaces(self) -> list[Profile]:
        if self._spaces is None:
            self._spaces = [p for _, p in self.m.store.iter_profiles(("offering",),
                                                                     category="event_space")]
        return self._spaces

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
        key = repr((reg, opts))
        with self._plans_lock:
            known = self._plans.get(key)
            before = self._inherited.pop(key, None)
        if known is not None:
            return known
        smes, vectors, themes = self.demand(reg, opts.logged_in)
        if before is not None and before.themes == themes:
            return self._remember(key, before)
        venue, point = self.venue_for(reg, smes, opts.venue, opts.logged_in)
        pool = self._pool(opts, point, vectors, themes)
        rel = self._relevance(pool, smes, vectors)
        gain = np.maximum(rel - self.floor, 0.0)
        chosen = self._greedy(pool, gain, opts)
        speakers = [self._speaker(i, pool, rel, smes, themes, chosen) for i in chosen]
        coverage = self._coverage(rel, chosen, themes)
        reachable = self._theme_scores(rel, themes)
        gaps = [t for t, r in zip(themes, reachable, strict=True) if r < 0.5]
        read, total = self.demand_size(reg, opts.logged_in)
        return self._remember(key, Lineup(reg, venue, point, themes, speakers, coverage, gaps,
                                          read, total))

    def _coverage(self, rel: np.ndarray, rows: list[int], themes: list[Theme]) -> float:
        """Weighted share of the region's demand that the speakers in ``rows`` serve."""
        covered = self._theme_scores(rel[rows] if rows else rel[:0], themes)
        total = sum(t.weight for t in themes) or 1.0
        return sum(t.weight * c for t, c in zip(themes, covered, strict=True)) / total

    def _theme_scores(self, rel: np.ndarray, themes: list[Theme]) -> list[float]:
        """Per theme: the share of its SMEs that one of the given speakers serves (relevance
        at least ``slam_covered_at``)."""
        if not len(rel):
            return [0.0 for _ in themes]
        served = rel.max(axis=0) >= self.covered_at
        return [float(served[t.rows].mean()) for t in themes]

    @staticmethod
    def _objective(rows: list[int], gain: np.ndarray) -> float:
        """Facility location: every SME counts with the best speaker for it."""
        if not rows or not gain.shape[1]:
            return 0.0
        return float(gain[rows].max(axis=0).sum())

    def _greedy(self, pool: list[tuple[Profile, float]], gain: np.ndarray,
                opts: SlamOptions) -> list[int]:
        chosen: list[int] = []
        per_inst: Counter[str] = Counter()
        ids = {p.id: i for i, (p, _) in enumerate(pool)}
        for pid in opts.pinned[:opts.size]:
            if pid in ids and ids[pid] not in chosen:
                chosen.append(ids[pid])
                per_inst[pool[ids[pid]][0].institution or pid] += 1
        current = self._objective(chosen, gain)
        while len(chosen) < min(opts.size, len(pool)):
            # the objective with each candidate added, all candidates at once
            added = self._objectives_with(chosen, gain)
            stages = Counter(pool[j][0].career_stage for j in chosen)
            genders = Counter(pool[j][0].gender for j in chosen)
            best, best_gain = -1, -np.inf
            for i, (p, _) in enumerate(pool):
                if i in chosen or per_inst[p.institution or p.id] >= opts.max_per_institution:
                    continue
                g = float(added[i]) - current
                g -= self._balance_penalty(p, stages, genders)
                if g > best_gain + 1e-12:
                    best, best_gain = i, g
            if best < 0:
                break
            chosen.append(best)
            per_inst[pool[best][0].institution or pool[best][0].id] += 1
            current = self._objective(chosen, gain)
        return chosen

    @staticmethod
    def _objectives_with(rows: list[int], gain: np.ndarray) -> np.ndarray:
        """Per candidate k: ``_objective([*rows, k], gain)``."""
        if not gain.shape[1]:
            return np.zeros(len(gain))
        if not rows:
            return gain.sum(axis=1)
        return np.maximum(gain, gain[rows].max(axis=0)).sum(axis=1)

    def _balance_penalty(self, p: Profile, stages: Counter[str | None],
                         genders: Counter[str | None]) -> float:
        """A small nudge towards mixed career stages and genders (where known); ``stages`` and
        ``genders`` count the speakers chosen so far."""
        w = float(self.settings.slam_balance_weight)
        same_stage = stages[p.career_stage]
        same_gender = genders[p.gender] if p.gender else 0
        return w * (max(0, same_stage - 1) + max(0, same_gender - 2))

    def _speaker(self, i: int, pool: list[tuple[Profile, float]], rel: np.ndarray,
                 smes: list[Profile], themes: list[Theme], chosen: list[int]) -> Speaker:
        p, dist = pool[i]
        mine = [j for j in range(len(smes)) if rel[i, j] >= rel[chosen, j].max() - 1e-9
                and rel[i, j] >= self.covered_at]
        own = [t for t in themes if set(t.rows) & set(mine)]
        own.sort(key=lambda t: -len(set(t.rows) & set(mine)))
        serves = [smes[j] for j in sorted(mine, key=lambda j: (-rel[i, j], smes[j].id))[:3]]
        gain = np.maximum(rel - self.floor, 0.0)
        rest = [j for j in chosen if j != i]
        with_k = self._objectives_with(rest, gain)
        alts = sorted((k for k in range(len(pool)) if k not in chosen),
                      key=lambda k: (-float(with_k[k]), pool[k][0].id))
        details = [{"id": pool[k][0].id, "name": pool[k][0].name,
                    "institution": pool[k][0].institution,
                    "coverage": round(self._coverage(rel, [*rest, k], themes), 3)}
                   for k in alts[:3]]
        return Speaker(p, [t.label for t in own], serves, dist,
                       self._objective([*rest, i], gain) - self._objective(rest, gain),
                       [str(d["id"]) for d in details], details)

    def tour(self, regions: Iterable[str] | None = None,
             opts: SlamOptions | None = None) -> list[Lineup]:
        """One stop per region (default: all 13 Kreise). Nobody speaks twice, unless a
        researcher already booked is the only one who serves a theme of a later stop; then they
        may speak again, up to ``max_stops_per_person`` stops."""
        opts = opts or SlamOptions()
        regs = ([find_region(r, self.settings.regions, self.m.gazetteer) for r in regions]
                if regions else district_regions())
        booked: Counter[str] = Counter(opts.booked)
        out = []
        for reg in regs:
            fresh = SlamOptions(**{**opts.__dict__, "booked": booked, "max_stops_per_person": 1})
            lineup = self.plan(reg, fresh)
            if opts.max_stops_per_person > 1 and lineup.gaps:
                lineup = self._reinvite(reg, lineup, opts, booked)
            booked.update(s.profile.id for s in lineup.speakers)
            out.append(lineup)
        return out

    def _reinvite(self, reg: Region, lineup: Lineup, opts: SlamOptions,
                  booked: Counter[str]) -> Lineup:
        """Let booked researchers back in when that closes a gap of this stop."""
        again = self.plan(reg, SlamOptions(**{**opts.__dict__, "booked": booked}))
        closed = {t.label for t in lineup.gaps} - {t.label for t in again.gaps}
        return again if closed else lineup


def _profile_ids(lineup: Lineup) -> set[str]:
    """Every profile a line-up shows or was built from: SMEs, speakers, alternatives, venue."""
    ids = {sme for t in lineup.themes for sme in t.smes}
    for s in lineup.speakers:
        ids |= {s.profile.id, *(p.id for p in s.serves), *s.alternatives}
    if lineup.venue is not None:
        ids.add(lineup.venue.id)
    return ids


__all__ = ["Lineup", "SlamOptions", "SlamPlanner", "Speaker"]
