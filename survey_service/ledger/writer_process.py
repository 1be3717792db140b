"""On SQLite, one process owns the database writes; the web workers hand their answers to it.

SQLite takes one writer at a time, and a commit (its index pages and the WAL fsync) is most of an
answer's cost. `survey-service serve` on SQLite therefore starts this writer process beside the
web workers: it runs the response writer (group commit, flags, hash chain, tallies) on its own
core, and every web worker sends it batches over a Unix socket (`RemoteResponseStore`). An answer
is still acknowledged only after the writer process has committed it. Because all writes go
through the one process, several web workers are safe on SQLite.

Frames: a 4-byte big-endian length, then msgpack (msgspec): a WriteRequest ({"rows": [AnswerRow]})
one way; back, in order and one batch at a time per connection, a WriteReply ({"stored": [nonces],
"unavailable": [nonces], "failed": [nonces], "reason": why the unavailable ones were not stored};
rows in none of them were stored before: duplicates). A WriteRequest with `check` and no rows asks
whether answers can be committed now (a web worker's /readyz): `reason` is empty if they can.

The writer process logs a failing database once per condition (ledger/outage.py) and reopens its
connection after any failure; the web workers tell senders to retry (503) meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import struct
import threading
import time
from pathlib import Path
from typing import TypeVar

import msgspec

from survey_service.core.errors import StorageUnavailable
from survey_service.core.heap import settle_heap
from survey_service.ledger.store import SQLiteResponseStore
from survey_service.ledger.writer import PartialFailure, ResponseWriter
from survey_service.respond.schemas import AnswerRow
from survey_service.respond.tables import Response

log = logging.getLogger(__name__)
HEADER = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024


class WriteRequest(msgspec.Struct, kw_only=True):
    """A web worker's batch for the writer process."""

    rows: list[AnswerRow]
    check: bool = False  # no rows: is the database writable now?


class WriteReply(msgspec.Struct, kw_only=True):
    """How the rows of a WriteRequest ended, by nonce; rows in none of these were stored before."""

    stored: list[str] = []
    unavailable: list[str] = []  # not stored: retry later
    failed: list[str] = []  # not stored: a bad row
    reason: str = ""  # why `unavailable` were not stored; to a check, why nothing can be stored now


Message = TypeVar("Message", WriteRequest, WriteReply)
_encoder = msgspec.msgpack.Encoder()
REQUESTS = msgspec.msgpack.Decoder(WriteRequest)
REPLIES = msgspec.msgpack.Decoder(WriteReply)


async def _send(stream: asyncio.StreamWriter, message: WriteRequest | WriteReply) -> None:
    body = _encoder.encode(message)
    stream.write(HEADER.pack(len(body)) + body)
    await stream.drain()


async def _receive(stream: asyncio.StreamReader, decoder: msgspec.msgpack.Decoder[Message]) -> Message:
    (length,) = HEADER.unpack(await stream.readexactly(HEADER.size))
    if length > MAX_FRAME:
        raise ValueError("frame too large")
    return decoder.decode(await stream.readexactly(length))


# Why answers are refused while the writer process cannot be reached (the writer logs it, once).
WRITER_GONE = "the writer process does not answer"


class RemoteResponseStore:
    """A web worker's ResponseStore: sends each batch to the writer process and waits for its commit."""

    # Longer than the writer's own wait for a busy database (SQLiteResponseStore.PATIENT_BUSY_MS).
    REPLY_SECONDS = 45

    def __init__(self, socket_path: str):
        self._path = socket_path
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = asyncio.Lock()

    async def insert(self, rows: list[AnswerRow]) -> set[str]:
        try:
            reply = await self._exchange(WriteRequest(rows=rows))
        except _Silent as silent:  # it may have committed before it went silent: ask the database
            return await self._committed_anyway(rows, silent.__cause__ or silent)
        stored = set(reply.stored)
        if reply.unavailable or reply.failed:
            raise PartialFailure(stored, set(reply.unavailable), set(reply.failed), reply.reason)
        return stored

    async def check(self) -> None:
        try:
            reply = await self._exchange(WriteRequest(rows=[], check=True))
        except _Silent as silent:
            raise StorageUnavailable(reason=WRITER_GONE) from silent.__cause__
        if reply.reason:
            raise StorageUnavailable(reason=reply.reason)

    async def _exchange(self, request: WriteRequest) -> WriteReply:
        """The writer process's reply; StorageUnavailable if the request never reached it, _Silent if
        it was sent and no reply came."""
        if self._loop is not asyncio.get_running_loop():  # the app (re)started on a new loop
            self._streams, self._loop, self._lock = None, asyncio.get_running_loop(), asyncio.Lock()
        sent = False
        async with self._lock:
            try:
                async with asyncio.timeout(self.REPLY_SECONDS):
                    if self._streams is None:
                        self._streams = await asyncio.open_unix_connection(self._path)
                    reader, writer = self._streams
                    await _send(writer, request)
                    sent = True
                    return await _receive(reader, REPLIES)
            except BaseException as exc:
                # Whatever broke the exchange (the writer gone or stuck, a cancelled request, a bad
                # frame), the connection may hold an unread reply: never reuse it.
                self._drop()
                if isinstance(
                    exc, (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError, msgspec.DecodeError)
                ):
                    # Not logged here, once per batch: the response writer logs the condition once.
                    if sent:
                        raise _Silent() from exc
                    raise StorageUnavailable(reason=WRITER_GONE) from exc
                raise

    async def _committed_anyway(self, rows: list[AnswerRow], cause: BaseException) -> set[str]:
        """After a batch was sent but no reply came: the nonces the database holds were committed
        (acknowledge them); the others were not, as far as anyone can tell yet (503: retry)."""
        nonces = [row.nonce for row in rows]
        try:
            found = {r["nonce"] for r in await Response.select(Response.nonce).where(Response.nonce.is_in(nonces))}
        except Exception as exc:
            raise StorageUnavailable(reason=WRITER_GONE) from exc
        if not found:
            raise StorageUnavailable(reason=WRITER_GONE) from cause
        if found != set(nonces):
            raise PartialFailure(found, set(nonces) - found, set(), WRITER_GONE)
        return found

    def _drop(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None

    async def close(self) -> None:
        self._drop()


class _Silent(Exception):
    """A request was sent to the writer process and no reply came."""


async def _serve(database: str, socket_path: str, batch_size: int, stop: asyncio.Event) -> None:
    writer = ResponseWriter(SQLiteResponseStore(database), batch_size=batch_size)
    await writer.start()
    # At once, so that a database that cannot be written (e.g. a read-only file) is logged when the
    # service starts, not at the first answer; the writer probes it until it can.
    await writer.check()
    settle_heap()

    async def connection(reader: asyncio.StreamReader, stream: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _receive(reader, REQUESTS)
                if request.check:
                    await _send(stream, WriteReply(reason=await writer.check() or ""))
                    continue
                rows = request.rows
                # The rows join the writer's queue together: batches from every worker share commits.
                try:
                    results: list = await writer.write_many(rows)
                except RuntimeError as exc:  # the writer has stopped: none of them was queued
                    results = [exc] * len(rows)
                reply = WriteReply()
                for row, result in zip(rows, results):
                    if isinstance(result, StorageUnavailable):
                        reply.unavailable.append(row.nonce)
                        reply.reason = result.reason
                    elif isinstance(result, BaseException):
                        reply.failed.append(row.nonce)
                    elif result:
                        reply.stored.append(row.nonce)
                await _send(stream, reply)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            stream.close()

    server = await asyncio.start_unix_server(connection, path=socket_path)
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()
        await writer.stop()  # commits what is waiting


def run_writer(database: str, socket_path: str, batch_size: int) -> None:
    """The writer process: serve until SIGTERM, then commit what is waiting and exit. Ctrl+C (SIGINT
    to the whole process group) is left to the parent, which stops the web workers first."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    parent = os.getppid()

    async def orphaned(stop: asyncio.Event) -> None:
        """Stop (committing what is waiting) if the server that started us is gone (e.g. SIGKILL)."""
        while os.getppid() == parent:
            await asyncio.sleep(1)
        stop.set()

    async def main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        watch = asyncio.create_task(orphaned(stop))
        await _serve(database, socket_path, batch_size, stop)
        watch.cancel()

    asyncio.run(main())


class WriterProcess:
    """Starts the writer process for a SQLite database, starts it again should it die (the web
    workers reconnect on their next batch; answers in flight at that moment are not acknowledged,
    so their senders retry), and stops it after the web workers."""

    def __init__(self, database: str, socket_path: Path, batch_size: int):
        self.socket_path = socket_path
        self._args = (database, str(socket_path), batch_size)
        self._process: multiprocessing.process.BaseProcess | None = None
        self._stopping = threading.Event()
        self._watchdog: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _launch(self, timeout: float) -> multiprocessing.process.BaseProcess:
        self.socket_path.unlink(missing_ok=True)
        process = self._process = multiprocessing.get_context("spawn").Process(
            target=run_writer, args=self._args, name="survey-writer"
        )
        process.start()
        deadline = time.monotonic() + timeout
        while not self.socket_path.exists():
            if not process.is_alive() or time.monotonic() > deadline:
                process.kill()
                process.join()
                raise RuntimeError("the writer process did not start")
            time.sleep(0.05)
        return process

    def start(self, timeout: float = 30) -> None:
        process = self._launch(timeout)
        self._watchdog = threading.Thread(
            target=self._watch, args=(process,), name="survey-writer-watchdog", daemon=True
        )
        self._watchdog.start()

    def _watch(self, process: multiprocessing.process.BaseProcess) -> None:
        while not self._stopping.is_set():
            process.join(0.5)
            if process.is_alive():
                continue
            # Exit code 0 is a clean stop (SIGTERM, e.g. a service manager stopping the whole group):
            # not a crash to recover from.
            if self._stopping.is_set() or process.exitcode == 0:
                return
            log.error("the writer process exited (code %s); starting it again", process.exitcode)
            try:
                process = self._launch(30)
            except RuntimeError:
                log.exception("the writer process could not be started again")
                time.sleep(1)

    def stop(self, timeout: float = 30) -> None:
        self._stopping.set()
        if self._watchdog is not None:
            self._watchdog.join()
        process = self._process
        if process is not None and process.is_alive():
            process.terminate()  # SIGTERM
            process.join(timeout)
        if process is not None and process.is_alive():
            process.kill()
            process.join()
        self.socket_path.unlink(missing_ok=True)
