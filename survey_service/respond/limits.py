"""Rate limits on answers, shared by every web worker and every server of a deployment.

The ledger enforces the stuffing limits itself (respond/quality.py `repeat_checks`, under its
write lock, from the stored answers): per device, per cookie-less browser at one address, and on new
devices churning from one address and browser signature. That needs no setting and holds on SQLite
and PostgreSQL alike, however many workers or servers write.

With `SURVEY_REDIS_URL` set, `RedisLimits` also counts the attempts in Redis before an answer is
written: the same limits, plus one per link, refused in the web worker before an answer reaches the
write lock. Without Redis, the per-link limit (an overload guard, not a stuffing control) is counted
in each worker.

Never on a network address alone: a school, or a carrier's NAT, puts hundreds of honest phones
behind one address. Answers that pass the limits may still be flagged (see quality.py).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Hashable
from typing import Protocol

import msgspec
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from survey_service.respond.quality import (
    CHURN_LIMIT,
    CHURN_WINDOW_SECONDS,
    DEVICE_LIMIT,
    DEVICE_LIMIT_SECONDS,
    SENDER_LIMIT,
    SENDER_LIMIT_SECONDS,
)

log = logging.getLogger(__name__)

# A whole school at a parents' meeting stays far below this.
LINK_LIMIT, LINK_LIMIT_SECONDS = 3000, 60


class Attempt(msgspec.Struct, kw_only=True, frozen=True):
    """One answer about to be written, as the limits see it: hashes only, never an address or id."""

    token: str
    survey: int
    nonce: str
    device_hash: str | None
    network_hash: str | None
    agent_hash: str | None
    # A device new to the round as far as the web worker can tell: its cookie issued within
    # CHURN_WINDOW_SECONDS, or no device cookie at all.
    new_device: bool


class SubmissionLimits(Protocol):
    async def allow(self, attempt: Attempt) -> bool:
        """Count one attempt; False when it is over a limit (answered 429)."""

    async def close(self) -> None: ...


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


class LocalLimits:
    """Without Redis: the per-link overload guard in this worker; the ledger enforces the rest."""

    def __init__(self) -> None:
        self.per_link = SlidingWindowLimit(limit=LINK_LIMIT, window_seconds=LINK_LIMIT_SECONDS)

    async def allow(self, attempt: Attempt) -> bool:
        return self.per_link.allow(attempt.token)

    async def close(self) -> None:
        return None


# Sliding windows as sorted sets (member → time), all checked and then all counted in one atomic
# step: KEYS are the windows; ARGV the time, then (window seconds, limit, member) for each key. A
# member already in its window (a device seen again, for the churn window) is never refused there.
# Returns 0, or the 1-based position of the first window that refuses.
_SCRIPT = """
local now = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[3 * i - 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local limit = tonumber(ARGV[3 * i])
  local member = ARGV[3 * i + 1]
  if not redis.call('ZSCORE', key, member) and redis.call('ZCARD', key) >= limit then
    return i
  end
end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[3 * i + 1])
  redis.call('EXPIRE', key, math.ceil(tonumber(ARGV[3 * i - 1])) + 1)
end
return 0
"""
PREFIX = "survey:limit:"


class RedisLimits:
    """The limits counted in Redis: one round trip per answer (one script, atomic, so two workers
    or two servers never both take the last slot). If Redis cannot be reached, answers are let
    through to the ledger, which enforces the same limits from the stored answers."""

    def __init__(self, url: str):
        self.url = url
        self._client = aioredis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._script = self._client.register_script(_SCRIPT)

    def windows(self, attempt: Attempt) -> tuple[list[str], list[str | int | float]]:
        keys = [f"{PREFIX}link:{attempt.token}"]
        args: list[str | int | float] = [LINK_LIMIT_SECONDS, LINK_LIMIT, attempt.nonce]
        round_ = attempt.survey
        if attempt.device_hash:
            keys.append(f"{PREFIX}device:{round_}:{attempt.device_hash}")
            args += [DEVICE_LIMIT_SECONDS, DEVICE_LIMIT, attempt.nonce]
        elif attempt.network_hash:
            keys.append(f"{PREFIX}sender:{round_}:{attempt.network_hash}:{attempt.agent_hash or ''}")
            args += [SENDER_LIMIT_SECONDS, SENDER_LIMIT, attempt.nonce]
        if attempt.new_device and attempt.network_hash:
            keys.append(f"{PREFIX}churn:{round_}:{attempt.network_hash}:{attempt.agent_hash or ''}")
            args += [CHURN_WINDOW_SECONDS, CHURN_LIMIT, attempt.device_hash or attempt.nonce]
        return keys, args

    async def allow(self, attempt: Attempt) -> bool:
        keys, args = self.windows(attempt)
        try:
            refused = await self._script(keys=keys, args=[time.time(), *args])
        except RedisError as exc:
            log.warning("rate limits in Redis unavailable (%s): the ledger's limits apply", exc)
            return True
        return not refused

    async def close(self) -> None:
        await self._client.aclose()


def submission_limits(redis_url: str) -> SubmissionLimits:
    return RedisLimits(redis_url) if redis_url else LocalLimits()
