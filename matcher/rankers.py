"""Named retrieval configurations, as used by ``matcher eval`` and the benchmarks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from matcher.embed import create_embedder
from matcher.errors import ConfigError
from matcher.evaluation import ProfileRanker, Ranker
from matcher.filters import Filters, ProfileTable
from matcher.indexer import load_index
from matcher.models import Profile
from matcher.retrieval import (
    DenseRetriever,
    HybridRetriever,
    KeywordRetriever,
    QueryEncoder,
    Retriever,
    SparseRetriever,
    profile_query_text,
)
from matcher.settings import Settings
from matcher.store import Store

if TYPE_CHECKING:
    from matcher.search import Matcher

METHODS = ("keyword", "dense", "sparse", "hybrid", "hybrid+keyword", "full")
DEPTH = 50


def make_retriever(method: str, store: Store, settings: Settings,
                   table: ProfileTable | None = None) -> Retriever:
    """The retriever for a method name: keyword, dense, sparse, hybrid (dense + sparse),
    hybrid+keyword (dense + sparse + FTS5).

    Raises:
        ConfigError: unknown method; the message lists the known ones.
        IndexStateError: the method needs an index that is missing or stale.
    """
    table = table or ProfileTable(store.table_columns())
    if method == "keyword":
        return KeywordRetriever(store, table)
    if method not in METHODS:
        raise ConfigError(f"Unbekanntes Verfahren {method!r} — bekannt: {', '.join(METHODS)}.")
    index = load_index(store, settings)
    if method == "sparse":
        return SparseRetriever(index, table)
    dense = DenseRetriever(QueryEncoder(create_embedder(settings, for_queries=True)), index,
                           table, int(settings.query_threads))
    if method == "dense":
        return dense
    keyword = KeywordRetriever(store, table) if method == "hybrid+keyword" else None
    return fused_retriever(dense, SparseRetriever(index, table), settings, keyword)


def fused_retriever(dense: Retriever, sparse: Retriever, settings: Settings,
                    keyword: Retriever | None = None) -> HybridRetriever:
    """The hybrid retriever over these channels, fused as the settings say (``fusion``,
    ``fusion_sparse_weight``, ``fusion_k``)."""
    parts: list[tuple[Retriever, float]] = [(dense, 1.0), (sparse, settings.fusion_sparse_weight)]
    if keyword is not None:
        parts.append((keyword, settings.fusion_sparse_weight))
    return HybridRetriever(parts, mode=settings.fusion, k=settings.fusion_k)


def make_rankers(method: str, store: Store, settings: Settings) -> tuple[Ranker, ProfileRanker]:
    """Return (text ranker, profile ranker) for a method name (see :func:`make_retriever`);
    ``full`` is the complete matching (:class:`matcher.search.Matcher`)."""
    if method == "full":
        return _full_rankers(store, settings)
    retriever = make_retriever(method, store, settings)

    def rank(text: str, filters: Filters) -> list[str]:
        return [pid for pid, _ in retriever.retrieve(text, filters, DEPTH)]

    def rank_profile(profile: Profile, filters: Filters) -> list[str]:
        return rank(profile_query_text(profile), filters)

    return rank, rank_profile


def _full_rankers(store: Store, settings: Settings) -> tuple[Ranker, ProfileRanker]:
    from matcher.search import Matcher

    return matcher_rankers(Matcher(store, settings))


def matcher_rankers(matcher: Matcher) -> tuple[Ranker, ProfileRanker]:
    """(text ranker, profile ranker) of the complete matching of ``matcher``; its re-ranking
    weights are read from ``matcher.settings`` at every call (``scripts/eval_sweep.py`` swaps
    them between runs without reloading models)."""

    def rank(text: str, filters: Filters) -> list[str]:
        result = matcher.match_text(
            text, lat=filters.center[0] if filters.center else None,
            lon=filters.center[1] if filters.center else None, radius_km=filters.radius_km,
            kinds=filters.kinds, region=filters.region.name if filters.region else None,
            limit=DEPTH, logged_in=filters.logged_in, parse=False)
        return [m.profile.id for m in result.matches]

    def rank_profile(profile: Profile, filters: Filters) -> list[str]:
        result = matcher.match_profile(profile.id, limit=DEPTH, logged_in=filters.logged_in)
        return [m.profile.id for m in result.matches]

    return rank, rank_profile
