"""The durable write path: one writer task commits waiting responses in batches (group commit).

A submission is acknowledged only after the batch holding it has committed. Under load, answers
that arrive while one batch commits form the next batch, so the cost of a commit (a connection on
SQLite, an fsync of the WAL) is shared by many responses.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from survey_service.errors import StorageUnavailable
from survey_service.respond.store import ResponseStore

log = logging.getLogger(__name__)


class PartialFailure(Exception):
    """A store that commits rows on its own (the SQLite writer process) says how each one ended:
    `stored` were committed; `unavailable` and `failed` were not (retry later; a bad row)."""

    def __init__(self, stored: set[str], unavailable: set[str], failed: set[str]):
        super().__init__(f"{len(unavailable) + len(failed)} of the batch not stored")
        self.stored, self.unavailable, self.failed = stored, unavailable, failed


class ResponseWriter:
    def __init__(self, store: ResponseStore, batch_size: int = 256):
        self._store = store
        self._batch_size = batch_size
        self._queue: asyncio.Queue[tuple[dict[str, Any], asyncio.Future[bool]] | None] = asyncio.Queue()
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

    async def write(self, row: dict[str, Any]) -> bool:
        """Store one response; True once committed, False if its nonce was already stored."""
        return await self.enqueue(row)

    def enqueue(self, row: dict[str, Any]) -> asyncio.Future[bool]:
        """Queue one response; its future settles as `write` returns. For callers that queue many
        rows at once (the writer process): gathering futures costs no task per row."""
        if self._task is None or self._task.done():
            raise RuntimeError("the response writer is not running")
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((row, future))
        return future

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            batch = [] if first is None else [first]
            stopping = first is None
            while len(batch) < self._batch_size and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stopping = True
                    continue
                batch.append(item)
            if batch:
                await self._commit_batch(batch)

    async def _commit_batch(self, batch: list[tuple[dict[str, Any], asyncio.Future[bool]]]) -> None:
        unavailable: set[str] = set()
        failed: set[str] = set()
        try:
            stored = await self._store.insert([row for row, _ in batch])
        except StorageUnavailable as exc:  # nothing was stored: every sender is told to retry
            for _, future in batch:
                _settle(future, exception=StorageUnavailable(exc.message))
            return
        except PartialFailure as outcome:  # each row already tried on its own by the store
            stored, unavailable, failed = outcome.stored, outcome.unavailable, outcome.failed
        except Exception:
            if len(batch) == 1:
                log.exception("storing a response failed")
                _settle(batch[0][1], exception=RuntimeError("storing the response failed"))
                return
            # One bad row must not cost the others their answers: commit them one by one.
            for item in batch:
                await self._commit_batch([item])
            return
        seen: set[str] = set()
        for row, future in batch:
            nonce = row["nonce"]
            if nonce in unavailable:
                _settle(future, exception=StorageUnavailable())
            elif nonce in failed:
                _settle(future, exception=RuntimeError("storing the response failed"))
            else:  # stored now, or already stored before (a repeat)
                _settle(future, result=nonce in stored and nonce not in seen)
            seen.add(nonce)


def _settle(future: asyncio.Future[bool], *, result: bool = False, exception: Exception | None = None) -> None:
    if future.done():  # the client went away and its request was cancelled
        return
    if exception is not None:
        future.set_exception(exception)
    else:
        future.set_result(result)
