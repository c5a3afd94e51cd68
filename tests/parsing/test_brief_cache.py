"""BriefCache: a small in-process TTL cache (a cost saver; nothing depends on a hit)."""

from __future__ import annotations

from core.catalog import Catalog
from core.parsing import LocalPromptParser
from core.parsing.cache import BriefCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_is_served_until_its_ttl_passes(catalog: Catalog):
    clock = FakeClock()
    cache = BriefCache(ttl_s=10, clock=clock)
    brief = LocalPromptParser(catalog).parse("a fox", "anime", "mug")
    cache.put("k", brief)
    clock.now = 9.9
    assert cache.get("k") == brief
    clock.now = 10.0
    assert cache.get("k") is None and len(cache) == 0


def test_the_least_recently_used_entry_goes_first_when_full(catalog: Catalog):
    cache = BriefCache(ttl_s=60, max_entries=2)
    brief = LocalPromptParser(catalog).parse("a fox", "anime", "mug")
    cache.put("a", brief)
    cache.put("b", brief)
    assert cache.get("a") == brief  # 'a' is now the most recent
    cache.put("c", brief)
    assert cache.get("b") is None and cache.get("a") == brief and cache.get("c") == brief


def test_a_zero_ttl_disables_the_cache(catalog: Catalog):
    cache = BriefCache(ttl_s=0)
    cache.put("k", LocalPromptParser(catalog).parse("a fox", "anime", "mug"))
    assert cache.get("k") is None and len(cache) == 0
