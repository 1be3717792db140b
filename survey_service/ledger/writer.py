"""The durable write path: one writer task commits waiting responses in batches (group commit).

A submission is acknowledged only after the batch holding it has committed. Under load, answers
that arrive while one batch commits form the next batch, so the cost of a commit (a connection on
SQLite, an fsync of the WAL) is shared by many responses.
"""

from __future__ import annotations

import asyncio
import logging

from survey_service.core.errors import StorageUnavailable
from survey_service.ledger.store import ResponseStore
from survey_service.respond.schemas import AnswerRow

log = logging.getLogger(__name__)


class PartialFailure(Exception):
    """A store that commits rows on its own (the SQLite writer process) says how each one ended:
    `stored` were committed; `unavailable` and `failed` were not (retry later; a bad row)."""

    def __init__(self, stored: set[str], unavailable: set[str], failed: set[str]):
        super().__init__(f"{len(unavailable) + len(failed)} of the batch not stored")
        self.stored, self.unavailable, self.failed = stored, unavailable, failed


# How one row ended: True stored now, False stored before (a repeated nonce), or the exception its
# sender gets (StorageUnavailable: retry later; RuntimeError: storing it failed).
Outcome = bool | Exception
Group = tuple[list[AnswerRow], asyncio.Future[list[Outcome]]]


class ResponseWriter:
    def __init__(self, store: ResponseStore, batch_size: int = 256):
        self._store = store
        self._batch_size = batch_size
        self._queue: asyncio.Queue[Group | None] = asyncio.Queue()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        # A queue belongs to the event loop that first uses it: a fresh one for each start.
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._run(), name="response-writer")

    async def stop(self) -> None:
        """Commit what is waiting, then stop."""
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
            if groups:
                outcomes = iter(await self._commit([row for rows, _ in groups for row in rows]))
                for rows, future in groups:
                    _settle(future, [next(outcomes) for _ in rows])

    async def _commit(self, batch: list[AnswerRow]) -> list[Outcome]:
        unavailable: set[str] = set()
        failed: set[str] = set()
        try:
            stored = await self._store.insert(batch)
        except StorageUnavailable as exc:  # nothing was stored: every sender is told to retry
            return [StorageUnavailable(exc.message) for _ in batch]
        except PartialFailure as outcome:  # each row already tried on its own by the store
            stored, unavailable, failed = outcome.stored, outcome.unavailable, outcome.failed
        except Exception:
            if len(batch) == 1:
                log.exception("storing a response failed")
                return [RuntimeError("storing the response failed")]
            # One bad row must not cost the others their answers: commit them one by one.
            return [outcome for row in batch for outcome in await self._commit([row])]
        outcomes: list[Outcome] = []
        seen: set[str] = set()
        for row in batch:
            nonce = row.nonce
            if nonce in unavailable:
                outcomes.append(StorageUnavailable())
            elif nonce in failed:
                outcomes.append(RuntimeError("storing the response failed"))
            else:  # stored now, or already stored before (a repeat)
                outcomes.append(nonce in stored and nonce not in seen)
            seen.add(nonce)
        return outcomes


def _settle(future: asyncio.Future[list[Outcome]], outcomes: list[Outcome]) -> None:
    if not future.done():  # else the client went away and its request was cancelled
        future.set_result(outcomes)
