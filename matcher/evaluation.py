"""Offline evaluation of retrieval configurations on judged queries (``corpora/eval``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matcher.errors import InputFileError
from matcher.filters import Filters
from matcher.geo import Gazetteer
from matcher.metrics import ndcg_at_k, recall_at_k, reciprocal_rank
from matcher.models import Profile
from matcher.regions import find_region

# A ranker maps (query text, filters) to profile ids, best first.
Ranker = Callable[[str, Filters], list[str]]
# A profile ranker maps a profile (partner search) to profile ids, best first.
ProfileRanker = Callable[[Profile, Filters], list[str]]


@dataclass
class EvalQuery:
    """One judged free-text query."""

    id: str
    group: str
    text: str
    judgments: dict[str, int]
    near: str | None = None
    radius_km: float | None = None
    kinds: list[str] | None = None
    region: str | None = None

    @property
    def tags(self) -> list[str]:
        tags = [self.group]
        if self.near or self.region:
            tags.append("place")
        if self.kinds:
            tags.append("kinds")
        if not (self.near or self.region or self.kinds):
            tags.append("plain")
        return tags


@dataclass
class PartnerCase:
    """Judged partners for one profile."""

    id: str
    profile: str
    judgments: dict[str, int]


@dataclass
class EvalSet:
    queries: list[EvalQuery]
    partners: list[PartnerCase]
    slam: list[dict[str, Any]]


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputFileError(f"{path}:{n}: kein gültiges JSON ({exc.msg})") from exc
    return out


def load_eval_set(folder: str | Path) -> EvalSet:
    """Read queries.jsonl, partners.jsonl and slam.jsonl from a folder (missing files = empty).

    Raises:
        InputFileError: a line is not valid JSON or the folder holds no queries at all.
    """
    folder = Path(folder)
    fields = {"id", "group", "text", "judgments", "near", "radius_km", "kinds", "region"}
    queries = [EvalQuery(**{k: v for k, v in r.items() if k in fields})
               for r in _read_jsonl(folder / "queries.jsonl")]
    partners = [PartnerCase(r["id"], r["profile"], r["judgments"])
                for r in _read_jsonl(folder / "partners.jsonl")]
    if not queries and not partners:
        raise InputFileError(f"{folder}: keine queries.jsonl oder partners.jsonl gefunden.")
    return EvalSet(queries, partners, _read_jsonl(folder / "slam.jsonl"))


def query_filters(q: EvalQuery, gazetteer: Gazetteer, regions: Mapping[str, Any]) -> Filters:
    """The hard filters an eval query asks for (evaluation sees internal profiles too)."""
    center = None
    if q.near:
        p = gazetteer.resolve(q.near)
        center = (p.lat, p.lon)
    region = find_region(q.region, regions, gazetteer) if q.region else None
    return Filters(kinds=tuple(q.kinds) if q.kinds else None, center=center,
                   radius_km=q.radius_km if center else None, region=region, logged_in=True)


@dataclass
class GroupScore:
    n: int = 0
    ndcg10: float = 0.0
    mrr: float = 0.0
    recall20: float = 0.0

    def add(self, ranked: list[str], judgments: Mapping[str, int]) -> None:
        self.n += 1
        self.ndcg10 += ndcg_at_k(ranked, judgments, 10)
        self.mrr += reciprocal_rank(ranked, judgments)
        self.recall20 += recall_at_k(ranked, judgments, 20)

    def as_dict(self) -> dict[str, float | int]:
        n = max(self.n, 1)
        return {"n": self.n, "ndcg@10": round(self.ndcg10 / n, 4), "mrr": round(self.mrr / n, 4),
                "recall@20": round(self.recall20 / n, 4)}


@dataclass
class EvalReport:
    """Scores per group ("all", user groups, "place", "kinds", "plain", the halves "tuning" and
    "held_out", "partners" and its halves)."""

    method: str
    groups: dict[str, GroupScore] = field(default_factory=dict)
    per_query: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method,
                "groups": {k: v.as_dict() for k, v in self.groups.items()},
                "per_query_ndcg@10": {k: round(v, 4) for k, v in self.per_query.items()}}


GROUP_ORDER = ("all", "sme", "manager", "organiser", "place", "kinds", "plain", "tuning",
               "held_out", "partners", "partners_tuning", "partners_held_out")


def half_of(case_id: str) -> str:
    """The half of the judged set a query or partner case belongs to: ``tuning`` when the number
    in its id is even (q002, p004), ``held_out`` otherwise. Weights are chosen on the tuning half
    and checked on the held-out half (docs/EVALUATION.md)."""
    digits = "".join(ch for ch in case_id if ch.isdigit())
    return "tuning" if digits and int(digits) % 2 == 0 else "held_out"


def evaluate(method: str, eval_set: EvalSet, rank: Ranker, rank_profile: ProfileRanker | None,
             load_profile: Callable[[str], Profile], gazetteer: Gazetteer,
             regions: Mapping[str, Any], depth: int = 20) -> EvalReport:
    """Run every query (and partner case, if a profile ranker is given) and score the rankings."""
    report = EvalReport(method, {g: GroupScore() for g in GROUP_ORDER})
    for q in eval_set.queries:
        ranked = rank(q.text, query_filters(q, gazetteer, regions))[:depth]
        for tag in ["all", *q.tags, half_of(q.id)]:
            report.groups.setdefault(tag, GroupScore()).add(ranked, q.judgments)
        report.per_query[q.id] = ndcg_at_k(ranked, q.judgments, 10)
    if rank_profile is not None:
        for case in eval_set.partners:
            profile = load_profile(case.profile)
            f = Filters(logged_in=True, exclude_ids=frozenset({profile.id}))
            ranked = rank_profile(profile, f)[:depth]
            for tag in ("partners", "partners_" + half_of(case.id)):
                report.groups[tag].add(ranked, case.judgments)
            report.per_query[case.id] = ndcg_at_k(ranked, case.judgments, 10)
    report.groups = {k: v for k, v in report.groups.items() if v.n}
    return report
