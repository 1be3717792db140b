"""The per-worker cache's refresh ahead: an entry in use is loaded again before it expires, so that a
burst of entries loaded together (a county's links) does not make the requests arriving as they
expire wait on their loads, and still no value is served past its time to live.

The cache's clock is replaced by one the test moves; the loads wait on a gate the test opens."""

from __future__ import annotations

import asyncio

import pytest

from support.clock import Clock
from survey_service.core import cache as cache_module
from survey_service.core.cache import REFRESH_FROM, REFRESH_TO, SingleFlightCache

TTL = 10.0


class Loads:
    """A load that returns how many loads of its key have started, once the gate is open; or raises
    while `failing`."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.failing = False

    async def __call__(self, key: str) -> int:
        self.started.append(key)
        await self.gate.wait()
        if self.failing:
            raise RuntimeError("database down")
        return self.started.count(key)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(cache_module, "time", clock)
    return clock


async def served_at_once(cache: SingleFlightCache, key: str) -> int:
    """The value, which must come without waiting on any load (the gate may be shut)."""
    return await asyncio.wait_for(cache.get(key), timeout=1)


async def settle() -> None:
    """Let the background loads that can finish, finish."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_an_entry_in_use_is_loaded_again_before_it_expires_and_no_request_waits(clock: Clock):
    loads = Loads()
    cache: SingleFlightCache[str, int] = SingleFlightCache(loads, TTL)
    assert await cache.get("link") == 1
    clock.now = TTL * REFRESH_FROM / 2  # early in its life: no new load
    assert await served_at_once(cache, "link") == 1
    assert loads.started == ["link"]

    loads.gate.clear()  # the next load takes its time
    clock.now = TTL * (REFRESH_TO + 1) / 2  # late in its life: served now, loaded again behind it
    assert await served_at_once(cache, "link") == 1
    assert await served_at_once(cache, "link") == 1  # one refresh, not one per request
    await settle()
    assert loads.started == ["link", "link"]

    loads.gate.set()
    await settle()
    clock.now = TTL * 1.2  # past the first value's life: the refreshed one, without waiting
    assert await served_at_once(cache, "link") == 2
    assert loads.started == ["link", "link"]


async def test_a_value_is_never_served_past_its_time_to_live(clock: Clock):
    loads = Loads()
    cache: SingleFlightCache[str, int] = SingleFlightCache(loads, TTL)
    assert await cache.get("link") == 1
    loads.gate.clear()
    clock.now = TTL * (REFRESH_TO + 1) / 2
    assert await served_at_once(cache, "link") == 1  # its refresh has started and hangs

    clock.now = TTL + 0.001  # expired, the refresh not back: a request waits for a load
    waiting = asyncio.ensure_future(cache.get("link"))
    await settle()
    assert not waiting.done()
    loads.gate.set()
    assert await waiting >= 2  # a value loaded after the first, never the expired one


async def test_a_refresh_that_fails_keeps_the_value_until_it_expires_then_the_error_shows(clock: Clock):
    loads = Loads()
    cache: SingleFlightCache[str, int] = SingleFlightCache(loads, TTL)
    assert await cache.get("link") == 1
    loads.failing = True
    clock.now = TTL * (REFRESH_TO + 1) / 2
    assert await served_at_once(cache, "link") == 1
    await settle()  # the refresh failed
    assert len(loads.started) == 2
    assert await served_at_once(cache, "link") == 1  # still within its life
    clock.now = TTL + 0.001
    with pytest.raises(RuntimeError, match="database down"):
        await cache.get("link")
    assert len(cache) == 0  # a failed load is not remembered
    loads.failing = False
    assert await cache.get("link") == 4


async def test_entries_loaded_together_are_loaded_again_at_spread_times(clock: Clock):
    loads = Loads()
    cache: SingleFlightCache[str, int] = SingleFlightCache(loads, TTL)
    keys = [f"link-{n}" for n in range(200)]
    for key in keys:
        await cache.get(key)
    # A quarter of the way into the refresh window, about a quarter of the entries start their load.
    clock.now = TTL * (REFRESH_FROM + (REFRESH_TO - REFRESH_FROM) / 4)
    for key in keys:
        await served_at_once(cache, key)
    await settle()
    refreshed = len(loads.started) - len(keys)
    assert 20 <= refreshed <= 100, refreshed


async def test_clearing_drops_the_refreshes_under_way(clock: Clock):
    loads = Loads()
    cache: SingleFlightCache[str, int] = SingleFlightCache(loads, TTL)
    await cache.get("link")
    loads.gate.clear()
    clock.now = TTL * (REFRESH_TO + 1) / 2
    await served_at_once(cache, "link")
    await settle()
    cache.clear()
    loads.gate.set()
    await settle()
    assert len(cache) == 0 and cache.size_bytes == 0  # the cancelled refresh put nothing back
    assert await cache.get("link") == 3
