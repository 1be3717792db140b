"""A small per-worker cache whose concurrent misses share one load (single flight), and whose entries
in use are loaded again in the background before they expire (refresh ahead).

Without refresh ahead, every entry loaded in one burst (a worker's first minute: all of a county's
links) expired in one burst too, and each request arriving then waited on its own link's load, one
at a time through the database connection: the answer page's p99 rose from about 7 ms to 36–63 ms
as they ran out, every SURVEY_LINK_CACHE_SECONDS (bench/page_over_time.py). Now an entry asked for
in the last part of its life (from a random point between REFRESH_FROM and REFRESH_TO of it, so
that a burst of entries spreads its loads) is loaded again while the current value is still
served; the new value replaces it when it arrives. A value is still never served past its time to live: an entry whose
new load has not arrived when it expires is waited for, as a miss is.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# What an entry costs beyond its key, estimated (tracemalloc, when an entry was an (expiry, future)
# pair; an Entry of three slots is no larger): its slot, the entry and the finished task or future
# holding the value; rounded up.
ENTRY_BYTES = 1024
# The share of an entry's time to live after which a request for it starts its next load.
REFRESH_FROM, REFRESH_TO = 0.7, 0.9


def entry_bytes(key: Hashable) -> int:
    """An entry's estimated size: its key (a str, or a tuple of small values) and ENTRY_BYTES."""
    return ENTRY_BYTES + sys.getsizeof(key)


class Entry(Generic[V]):
    """A key's load (a future of its value), until when it may be served, and when a request for it
    starts its next load."""

    __slots__ = ("expires", "refresh_at", "value")

    def __init__(self, value: asyncio.Future[V], now: float, ttl: float):
        self.value = value
        self.expires = now + ttl
        self.refresh_at = now + ttl * random.uniform(REFRESH_FROM, REFRESH_TO)


class SingleFlightCache(Generic[K, V]):
    """key → value for `ttl_seconds`; a crowd arriving as an entry expires makes one load, not one
    each, and an entry in use is loaded again before it expires (see the module's docstring). A load
    that raises is not remembered (a refresh that raises leaves the current value until it expires).
    Bounded by entries and by estimated bytes: beyond either, the oldest entries go first (a flood of
    new keys never grows it, and never empties it at once)."""

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
        self._entries: dict[K, Entry[V]] = {}
        self._refreshing: dict[K, asyncio.Task[None]] = {}

    async def get(self, key: K) -> V:
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry.value.done() and now < entry.expires:
            if now >= entry.refresh_at and key not in self._refreshing:
                self._refreshing[key] = asyncio.create_task(self._refresh(key, entry, now))
            return entry.value.result()  # a load that raised is never an entry (_guarded)
        if entry is None or entry.value.done():  # none yet, or expired: load it (one load for a crowd)
            entry = self._add(key, asyncio.ensure_future(self._guarded(key)), now)
        return await asyncio.shield(entry.value)

    def put(self, key: K, value: V) -> None:
        """Hold a value loaded elsewhere (many keys' values read by one query) as if `get` had just
        loaded it."""
        self._add(key, _done(value), time.monotonic())

    def _add(self, key: K, value: asyncio.Future[V], now: float) -> Entry[V]:
        self._remove(key)
        size = entry_bytes(key)
        while self._entries and (len(self._entries) >= self._max or self._bytes + size > self._max_bytes):
            self._remove(next(iter(self._entries)))
        entry = self._entries[key] = Entry(value, now, self._ttl)
        self._bytes += size
        return entry

    async def _guarded(self, key: K) -> V:
        try:
            return await self._load(key)
        except BaseException:
            self._remove(key)
            raise

    async def _refresh(self, key: K, entry: Entry[V], now: float) -> None:
        """Load `key` again while `entry` is served; the new value replaces it if it is still the
        key's entry by then (not evicted, cleared or expired and loaded anew meanwhile)."""
        try:
            value = await self._load(key)
        except Exception:
            # The current value stays until it expires, not loaded again meanwhile; then a request
            # loads it (and sees the error if there still is one).
            entry.refresh_at = entry.expires
            return
        finally:
            if self._refreshing.get(key) is asyncio.current_task():  # not a later one's, after a clear
                del self._refreshing[key]
        if self._entries.get(key) is entry:
            self._entries[key] = Entry(_done(value), now, self._ttl)

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
        for task in self._refreshing.values():
            task.cancel()
        self._refreshing.clear()


def _done(value: V) -> asyncio.Future[V]:
    future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future
