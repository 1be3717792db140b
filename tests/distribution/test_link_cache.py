"""The link cache (issue 13, item 4): a token of no link's shape never reaches it, and a flood of
tokens of the right shape never grows it beyond its bound in bytes, oldest entries leaving first."""

from __future__ import annotations

import secrets

from survey_service.core.cache import SingleFlightCache, entry_bytes
from survey_service.core.errors import LinkNotFound
from survey_service.distribution.service import LinkCache, new_token, plausible_token


def test_only_what_new_token_gives_is_plausible():
    assert all(plausible_token(new_token()) for _ in range(1000))
    for token in [
        "",
        "a" * 15,
        "a" * 17,
        "a" * 5000,
        "abcdefghijklmno\x00",
        "abcdefghijklmno+",
        "中" * 16,
        "abc/efghijklmnop",
    ]:
        assert not plausible_token(token), token


async def test_an_implausible_token_is_refused_before_any_lookup_or_entry():
    cache = LinkCache(60)
    loads = []

    async def load(token: str):
        loads.append(token)
        return None

    cache._cache = SingleFlightCache(load, 60)  # count the loads; the shape check comes before the cache
    for token in ["\x00", "a" * 5000, "%ff"]:
        try:
            await cache.get(token)
        except LinkNotFound:
            pass
        else:
            raise AssertionError(token)
    assert loads == [] and len(cache) == 0 and cache.size_bytes == 0


async def test_a_flood_of_unknown_keys_stays_within_the_byte_bound_oldest_first():
    async def load(key: str) -> None:
        return None

    budget = 200 * entry_bytes("x" * 16)
    cache: SingleFlightCache[str, None] = SingleFlightCache(load, 60, max_bytes=budget)
    await cache.get("kept-first-key!!")
    for _ in range(5_000):
        await cache.get(secrets.token_urlsafe(12))
        assert cache.size_bytes <= budget
    assert 190 <= len(cache) <= 200
    assert "kept-first-key!!" not in cache._entries  # the oldest left first


async def test_a_load_that_fails_is_not_kept_and_frees_its_bytes():
    async def load(key: str) -> None:
        raise RuntimeError("database down")

    cache: SingleFlightCache[str, None] = SingleFlightCache(load, 60)
    for _ in range(3):
        try:
            await cache.get("k")
        except RuntimeError:
            pass
    assert len(cache) == 0 and cache.size_bytes == 0
