"""A small per-worker cache whose concurrent misses share one load (single flight)."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# What an entry costs beyond its key, measured (tracemalloc): its slot, its (expiry, future) pair and
# the finished task holding the value; rounded up.
ENTRY_BYTES = 1024


def entry_bytes(key: Hashable) -> int:
    """An entry's estimated size: its key (a str, or a tuple of small values) and ENTRY_BYTES."""
    return ENTRY_BYTES + sys.getsizeof(key)


class SingleFlightCache(Generic[K, V]):
    """key → value for `ttl_seconds`; a crowd arriving as an entry expires makes one load, not one
    each. A load that raises is not remembered. Bounded by entries and by estimated bytes: beyond
    either, the oldest entries go first (a flood of new keys never grows it, and never empties it at once)."""

    def __init__(
        self,
        load: Callable[[K], Awaitable[V]],
        ttl_seconds: float,
        max_entries: int = 50_000,
        max_bytes: int = 64 * 1024 * 1024,
    ):
        self._load = load
        self._ttl = ttl_seconds
        self._max = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0
        self._entries: dict[K, tuple[float, asyncio.Future[V]]] = {}

    async def get(self, key: K) -> V:
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is None or (hit[0] < now and hit[1].done()):
            self._remove(key)
            size = entry_bytes(key)
            while self._entries and (len(self._entries) >= self._max or self._bytes + size > self._max_bytes):
                self._remove(next(iter(self._entries)))
            hit = self._entries[key] = (now + self._ttl, asyncio.ensure_future(self._guarded(key)))
            self._bytes += size
        return await asyncio.shield(hit[1])

    async def _guarded(self, key: K) -> V:
        try:
            return await self._load(key)
        except BaseException:
            self._remove(key)
            raise

    def _remove(self, key: K) -> None:
        if self._entries.pop(key, None) is not None:
            self._bytes -= entry_bytes(key)

    @property
    def size_bytes(self) -> int:
        """The entries' estimated size (entry_bytes each)."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0
