"""Evaluation of Inno Slam line-ups against the expectations in ``corpora/eval/slam.jsonl``."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from matcher.regions import Region, find_region
from matcher.slam import SlamOptions, SlamPlanner


@dataclass
class RegionScore:
    region: str
    method: str
    precision: float  # share of speakers the expectations grade ≥ 1
    good: float  # share graded ≥ 2
    coverage: float  # weighted share of the region's SMEs served, per theme

    def as_dict(self) -> dict[str, Any]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in self.__dict__.items()}


class SlamEvaluator:
    """Scores the planner and two baselines on the same pool and relevance."""

    def __init__(self, planner: SlamPlanner, opts: SlamOptions | None = None) -> None:
        self.p = planner
        self.opts = opts or SlamOptions()

    def _setup(self, region: Region) -> tuple[list[Any], np.ndarray, list[Any], Any]:
        smes, vectors, themes = self.p.demand(region)
        _, point = self.p.venue_for(region, smes, None, False)
        pool = self.p._pool(self.opts, point, vectors, themes)
        return pool, self.p._relevance(pool, smes, vectors), themes, vectors

    def _coverage(self, rel: np.ndarray, themes: list[Any], rows: list[int]) -> float:
        total = sum(t.weight for t in themes) or 1.0
        scores = self.p._theme_scores(rel[rows] if rows else rel[:0], themes)
        return sum(t.weight * c for t, c in zip(themes, scores, strict=True)) / total

    def score(self, region_name: str, expected: Mapping[str, int],
              random_draws: int = 20) -> list[RegionScore]:
        """Planner, top-k by plain similarity to the region's needs, random eligible."""
        region = find_region(region_name, self.p.settings.regions, self.p.m.gazetteer)
        pool, rel, themes, vectors = self._setup(region)
        ids = [p.id for p, _ in pool]
        k = self.opts.size

        def row(method: str, rows: list[int]) -> RegionScore:
            grades = [expected.get(ids[i], 0) for i in rows]
            n = max(len(rows), 1)
            return RegionScore(region.name, method, sum(g >= 1 for g in grades) / n,
                               sum(g >= 2 for g in grades) / n, self._coverage(rel, themes, rows))

        lineup = self.p.plan(region, self.opts)
        chosen = [ids.index(s.profile.id) for s in lineup.speakers]
        centre = vectors.mean(axis=0) if len(vectors) else np.zeros(1)
        docs = np.vstack([self.p.m._doc_vector(self.p.m.table.pos[i]) for i in ids])
        plain = list(np.argsort(-(docs @ centre), kind="stable")[:k])
        rng = random.Random(0)
        draws = [row("random", rng.sample(range(len(ids)), min(k, len(ids))))
                 for _ in range(random_draws)]
        rand = RegionScore(region.name, "random eligible",
                           float(np.mean([d.precision for d in draws])),
                           float(np.mean([d.good for d in draws])),
                           float(np.mean([d.coverage for d in draws])))
        return [row("matcher (facility location)", chosen),
                row("top-k by similarity to the region", [int(i) for i in plain]), rand]


def tour_violations(lineups: list[Any], opts: SlamOptions) -> list[str]:
    """Every broken constraint in a tour, as German messages (empty list = all hold)."""
    problems = []
    stops: dict[str, int] = {}
    for lu in lineups:
        insts: dict[str, int] = {}
        for s in lu.speakers:
            p = s.profile
            stops[p.id] = stops.get(p.id, 0) + 1
            insts[p.institution or p.id] = insts.get(p.institution or p.id, 0) + 1
            if p.career_stage == "professor" and not opts.allow_professors:
                problems.append(f"{lu.region.name}: {p.name} ist Professor/in")
            if s.distance_km is not None and s.distance_km > opts.max_travel_km:
                problems.append(f"{lu.region.name}: {p.name} reist {s.distance_km:.0f} km")
            if p.id in opts.exclude:
                problems.append(f"{lu.region.name}: {p.name} war ausgeschlossen")
        problems += [f"{lu.region.name}: {n} Vortragende von {inst}" for inst, n in insts.items()
                     if n > opts.max_per_institution]
        if len(lu.speakers) > opts.size:
            problems.append(f"{lu.region.name}: {len(lu.speakers)} Vortragende")
    problems += [f"{pid} spricht bei {n} Stationen" for pid, n in stops.items()
                 if n > opts.max_stops_per_person]
    return problems
