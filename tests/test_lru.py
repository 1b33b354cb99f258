"""The small LRU cache behind masks, k-means labels and query vectors."""

from __future__ import annotations

from matcher.lru import LRU


def test_computes_on_a_miss_only_and_drops_the_least_recently_used():
    calls: list[str] = []
    cache: LRU[str, int] = LRU(2)

    def compute(key: str) -> int:
        calls.append(key)
        return len(key)

    assert cache.get("ab", lambda: compute("ab")) == 2
    assert cache.get("abc", lambda: compute("abc")) == 3
    assert cache.get("ab", lambda: compute("ab")) == 2  # a hit, and now the most recent
    cache.get("abcd", lambda: compute("abcd"))  # drops "abc"
    assert calls == ["ab", "abc", "abcd"]
    assert "ab" in cache and "abc" not in cache and len(cache) == 2
    assert sorted(cache) == ["ab", "abcd"]
    cache.clear()
    assert len(cache) == 0 and "ab" not in cache
