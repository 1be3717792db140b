"""A small per-worker cache whose concurrent misses share one load (single flight)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlightCache(Generic[K, V]):
    """key → value for `ttl_seconds`; a crowd arriving as an entry expires makes one load, not one
    each. A load that raises is not remembered."""

    def __init__(self, load: Callable[[K], Awaitable[V]], ttl_seconds: float, max_entries: int = 50_000):
        self._load = load
        self._ttl = ttl_seconds
        self._max = max_entries
        self._entries: dict[K, tuple[float, asyncio.Future[V]]] = {}

    async def get(self, key: K) -> V:
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is None or (hit[0] < now and hit[1].done()):
            if len(self._entries) >= self._max:
                self._entries.clear()
            hit = self._entries[key] = (now + self._ttl, asyncio.ensure_future(self._guarded(key)))
        return await asyncio.shield(hit[1])

    async def _guarded(self, key: K) -> V:
        try:
            return await self._load(key)
        except BaseException:
            self._entries.pop(key, None)
            raise

    def clear(self) -> None:
        self._entries.clear()
