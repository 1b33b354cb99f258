"""Named retrieval configurations, as used by ``matcher eval`` and the benchmarks."""

from __future__ import annotations

from matcher.errors import ConfigError
from matcher.evaluation import ProfileRanker, Ranker
from matcher.filters import Filters, ProfileTable
from matcher.models import Profile
from matcher.retrieval import KeywordRetriever, profile_query_text
from matcher.settings import Settings
from matcher.store import Store

METHODS = ("keyword",)
DEPTH = 50


def make_rankers(method: str, store: Store, settings: Settings) -> tuple[Ranker, ProfileRanker]:
    """Return (text ranker, profile ranker) for a method name.

    Raises:
        ConfigError: unknown method; the message lists the known ones.
    """
    table = ProfileTable(store.table_rows())
    if method == "keyword":
        retriever = KeywordRetriever(store, table)
    else:
        raise ConfigError(f"Unbekanntes Verfahren {method!r} — bekannt: {', '.join(METHODS)}.")

    def rank(text: str, filters: Filters) -> list[str]:
        return [pid for pid, _ in retriever.retrieve(text, filters, DEPTH)]

    def rank_profile(profile: Profile, filters: Filters) -> list[str]:
        return rank(profile_query_text(profile), filters)

    return rank, rank_profile
