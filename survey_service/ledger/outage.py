"""A failing condition of the write path, logged as a condition: once when it starts, once a minute
while it lasts (with how many answers it refused), and once when it ends; never once per answer.

A full disk used to log a traceback for every answer (15,623 in 8 s); now it is a handful of lines.
"""

from __future__ import annotations

import logging
import time


class Outage:
    """What stops the writes now (None: nothing known), since when, and how many answers it refused."""

    REMIND_SECONDS = 60.0

    def __init__(self, log: logging.Logger, subject: str, again: str):
        self._log = log
        self._subject = subject  # what the condition stops, e.g. "answers cannot be stored"
        self._again = again  # what its end brings back, e.g. "answers are stored again"
        self.cause: str | None = None
        self.since = 0.0
        self.refused = 0
        self._reminded = 0.0

    @property
    def active(self) -> bool:
        return self.cause is not None

    def failed(self, cause: str, refused: int = 0, detail: BaseException | None = None) -> bool:
        """Count a failure of `cause`; True if it starts a condition (a new one, or another cause)."""
        now = time.monotonic()
        started = cause != self.cause
        if started:
            if self.cause is not None:
                self._log.error(
                    "%s: %s (after %.1f s of %s, %d answers refused)",
                    self._subject,
                    cause,
                    now - self.since,
                    self.cause,
                    self.refused,
                )
            else:
                self._log.error(
                    "%s: %s%s; senders are told to retry later (503)",
                    self._subject,
                    cause,
                    f" ({_describe(detail)})" if detail is not None else "",
                )
            self.cause, self.since, self.refused, self._reminded = cause, now, 0, now
        self.refused += refused
        if not started and now - self._reminded >= self.REMIND_SECONDS:
            self._reminded = now
            self._log.error(
                "%s still: %s for %.0f s, %d answers refused so far",
                self._subject,
                cause,
                now - self.since,
                self.refused,
            )
        return started

    def recovered(self) -> None:
        if self.cause is None:
            return
        self._log.warning(
            "%s: %s cleared after %.1f s; %d answers were refused meanwhile",
            self._again,
            self.cause,
            time.monotonic() - self.since,
            self.refused,
        )
        self.cause = None


class Repeats:
    """Log an error with its traceback the first time; the same error again within a minute only
    as a count, at the next line logged for it."""

    WINDOW_SECONDS = 60.0

    def __init__(self, log: logging.Logger):
        self._log = log
        self._seen: dict[str, tuple[float, int]] = {}  # key -> (last logged, suppressed since)

    def exception(self, message: str, exc: BaseException) -> None:
        key = f"{message}: {type(exc).__name__}: {exc}"
        now = time.monotonic()
        logged, suppressed = self._seen.get(key, (-self.WINDOW_SECONDS, 0))
        if now - logged < self.WINDOW_SECONDS:
            self._seen[key] = (logged, suppressed + 1)
            return
        if len(self._seen) > 1000:
            self._seen.clear()
        self._seen[key] = (now, 0)
        again = f" (and {suppressed} times more in the last minute)" if suppressed else ""
        self._log.error("%s%s", message, again, exc_info=exc)


def _describe(exc: BaseException) -> str:
    """The error that caused it all (a wrapper such as StorageUnavailable says nothing more)."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return f"{type(exc).__name__}: {exc}"
