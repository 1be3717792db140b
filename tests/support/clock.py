"""A clock a test moves by hand, for what reads time.monotonic (the per-worker caches)."""

from __future__ import annotations


class Clock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def monotonic(self) -> float:
        return self.now
