"""Rate limits per device, per cookie-less sender and per link (in memory, per worker).

Never on a network address alone: a school, or a carrier's NAT, puts hundreds of honest phones
behind one address. Answers that pass the limits may still be flagged (see quality.py).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Hashable


class SlidingWindowLimit:
    def __init__(self, limit: int, window_seconds: float, max_keys: int = 200_000):
        self.limit = limit
        self.window = window_seconds
        self._max_keys = max_keys
        self._hits: dict[Hashable, deque[float]] = {}

    def allow(self, key: Hashable, now: float | None = None) -> bool:
        """Count one attempt for `key`; False when it already made `limit` within the window."""
        now = time.monotonic() if now is None else now
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self._max_keys:
                self._prune(now)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True

    def _prune(self, now: float) -> None:
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window]:
            del self._hits[key]
        if len(self._hits) >= self._max_keys:
            self._hits.clear()


class SubmissionLimits:
    """A phone answers a few questionnaires (a parent with children in two schools), not dozens."""

    def __init__(self) -> None:
        self.per_device = SlidingWindowLimit(limit=10, window_seconds=3600)
        # Without a device cookie: one browser at one address; generous, and flagged beyond a burst.
        self.per_sender = SlidingWindowLimit(limit=60, window_seconds=600)
        # A whole school at a parents' meeting stays far below this.
        self.per_link = SlidingWindowLimit(limit=3000, window_seconds=60)

    def allow(self, token: str, device_id: str | None, address: str | None, agent: str | None) -> bool:
        if not self.per_link.allow(token):
            return False
        if device_id:
            return self.per_device.allow(device_id)
        return self.per_sender.allow((address, agent))
