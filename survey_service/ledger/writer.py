"""The durable write path: one writer task commits waiting responses in batches (group commit).

A submission is acknowledged only after the batch holding it has committed. Under load, answers
that arrive while one batch commits form the next batch, so the cost of a commit (a connection on
SQLite, an fsync of the WAL) is shared by many responses.

When the database cannot take writes (read-only, a full disk, the writer process gone), every sender
is told to retry (StorageUnavailable: a 503), the condition is logged once (ledger/outage.py), and
the writer probes the store every second until a write succeeds again; every batch meanwhile is
tried for real too (the store opens a new connection after any failure), so answers are stored again
as soon as the database takes them, without a restart. `check` says whether answers can be committed
now (/readyz).
"""

from __future__ import annotations

import asyncio
import logging
import time

from survey_service.core.errors import StorageUnavailable
from survey_service.ledger.outage import Outage, Repeats
from survey_service.ledger.store import ResponseStore
from survey_service.respond.schemas import AnswerRow

log = logging.getLogger(__name__)


class PartialFailure(Exception):
    """A store that commits rows on its own (the SQLite writer process) says how each one ended:
    `stored` were committed; `unavailable` and `failed` were not (retry later; a bad row)."""

    def __init__(self, stored: set[str], unavailable: set[str], failed: set[str], reason: str = ""):
        super().__init__(f"{len(unavailable) + len(failed)} of the batch not stored")
        self.stored, self.unavailable, self.failed = stored, unavailable, failed
        self.reason = reason  # why the `unavailable` rows were not stored


# How one row ended: True stored now, False stored before (a repeated nonce), or the exception its
# sender gets (StorageUnavailable: retry later; RuntimeError: storing it failed).
Outcome = bool | Exception
# Rows and the future of their outcomes; no rows: a check of the store (see `check`).
Group = tuple[list[AnswerRow], asyncio.Future[list[Outcome]]]


class ResponseWriter:
    # While answers cannot be stored, the store is probed this often, so that /readyz (and the log)
    # sees the recovery even when no answer arrives.
    PROBE_SECONDS = 1.0
    # A check within this long of a commit or probe that succeeded takes its word (an idle service's
    # /readyz costs at most one small write this often).
    CONFIRMED_SECONDS = 10.0

    def __init__(self, store: ResponseStore, batch_size: int = 256):
        self._store = store
        self._batch_size = batch_size
        self._queue: asyncio.Queue[Group | None] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._probing: asyncio.Task | None = None
        self._outage = Outage(log, "answers cannot be stored", "answers are stored again")
        self._failures = Repeats(log)
        self._confirmed = -self.CONFIRMED_SECONDS  # when a write last succeeded (monotonic)

    async def start(self) -> None:
        # A queue belongs to the event loop that first uses it: a fresh one for each start.
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._run(), name="response-writer")

    async def check(self) -> str | None:
        """None if answers can be committed now; else what stops them. Between commits it asks the
        store (a small real write), at most every CONFIRMED_SECONDS; during a condition it answers
        from the condition, which the probe clears once a write succeeds."""
        if self._task is None or self._task.done():
            return "the response writer is not running"
        if self._outage.active:
            return self._outage.cause
        if time.monotonic() - self._confirmed < self.CONFIRMED_SECONDS:
            return None
        [outcome] = await self.write_many([])
        return outcome.reason if isinstance(outcome, StorageUnavailable) else None

    async def stop(self) -> None:
        """Commit what is waiting, then stop."""
        if self._probing is not None:
            self._probing.cancel()
            self._probing = None
        if self._task is not None:
            self._queue.put_nowait(None)
            await self._task
            self._task = None
        await self._store.close()

    async def write(self, row: AnswerRow) -> bool:
        """Store one response; True once committed, False if its nonce was already stored."""
        [outcome] = await self.write_many([row])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def write_many(self, rows: list[AnswerRow]) -> list[Outcome]:
        """Store rows that arrived together (a web worker's batch, in the writer process): one queue
        entry and one future for all of them, not one each. Their outcomes, in order."""
        if self._task is None or self._task.done():
            raise RuntimeError("the response writer is not running")
        future: asyncio.Future[list[Outcome]] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((rows, future))
        return await future

    async def _run(self) -> None:
        stopping = False
        # Once asked to stop, go on until nothing is queued: rows queued while the last batch was
        # committing are committed too, not left waiting.
        while not (stopping and self._queue.empty()):
            first = self._queue.get_nowait() if stopping else await self._queue.get()
            groups = [] if first is None else [first]
            stopping = stopping or first is None
            size = len(first[0]) if first else 0
            while size < self._batch_size and not self._queue.empty():
                group = self._queue.get_nowait()
                if group is None:
                    stopping = True
                    continue
                groups.append(group)
                size += len(group[0])
            checks = [future for rows, future in groups if not rows]
            groups = [group for group in groups if group[0]]
            if groups:
                outcomes = iter(await self._commit([row for rows, _ in groups for row in rows]))
                for rows, future in groups:
                    _settle(future, [next(outcomes) for _ in rows])
            if checks:
                checked = await self._probe()
                for future in checks:
                    _settle(future, [checked])

    async def _probe(self) -> Outcome:
        """A check, in turn with the batches: the store's own probe unless a write succeeded just now."""
        if not self._outage.active and time.monotonic() - self._confirmed < self.CONFIRMED_SECONDS:
            return True
        try:
            await self._store.check()
        except StorageUnavailable as exc:
            self._unavailable(exc.reason, 0, exc)
            return exc
        except Exception as exc:
            self._failures.exception("checking the database failed", exc)
            self._unavailable("the database cannot be checked", 0, exc)
            return StorageUnavailable(reason="the database cannot be checked")
        self._available()
        return True

    def _available(self) -> None:
        self._confirmed = time.monotonic()
        self._outage.recovered()

    def _unavailable(self, reason: str, refused: int, detail: BaseException | None = None) -> None:
        self._confirmed = -self.CONFIRMED_SECONDS
        # The error behind it, if there is one here (not in a web worker, told by the writer process).
        self._outage.failed(reason, refused, detail if detail is not None and detail.__cause__ else None)
        if self._probing is None or self._probing.done():
            self._probing = asyncio.create_task(self._probe_until_available(), name="response-writer-probe")

    async def _probe_until_available(self) -> None:
        while self._outage.active and self._task is not None and not self._task.done():
            await asyncio.sleep(self.PROBE_SECONDS)
            if self._task is None or self._task.done():
                return
            future: asyncio.Future[list[Outcome]] = asyncio.get_running_loop().create_future()
            self._queue.put_nowait(([], future))
            await future

    async def _commit(self, batch: list[AnswerRow]) -> list[Outcome]:
        unavailable: set[str] = set()
        failed: set[str] = set()
        reason = ""
        try:
            stored = await self._store.insert(batch)
        except StorageUnavailable as exc:  # nothing was stored: every sender is told to retry
            self._unavailable(exc.reason, len(batch), exc)
            return [StorageUnavailable(reason=exc.reason) for _ in batch]
        except PartialFailure as outcome:  # each row already tried on its own by the store
            stored, unavailable, failed = outcome.stored, outcome.unavailable, outcome.failed
            reason = outcome.reason or "the writer process cannot store"
            if unavailable:
                self._unavailable(reason, len(unavailable))
            elif stored or not failed:
                self._available()
        except Exception as exc:
            if len(batch) == 1:
                self._failures.exception("storing a response failed", exc)
                return [RuntimeError("storing the response failed")]
            # One bad row must not cost the others their answers: commit them one by one.
            return [outcome for row in batch for outcome in await self._commit([row])]
        else:
            self._available()
        outcomes: list[Outcome] = []
        seen: set[str] = set()
        for row in batch:
            nonce = row.nonce
            if nonce in unavailable:
                outcomes.append(StorageUnavailable(reason=reason))
            elif nonce in failed:
                outcomes.append(RuntimeError("storing the response failed"))
            else:  # stored now, or already stored before (a repeat)
                outcomes.append(nonce in stored and nonce not in seen)
            seen.add(nonce)
        return outcomes


def _settle(future: asyncio.Future[list[Outcome]], outcomes: list[Outcome]) -> None:
    if not future.done():  # else the client went away and its request was cancelled
        future.set_result(outcomes)
