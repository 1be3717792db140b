"""Batch inserts of responses: the one hot write of the service.

Piccolo builds a query object per row (about 0.8 ms per response measured under load) and opens a
new SQLite connection per transaction, which capped durable answers near 1,100/s. So this path
speaks SQL directly: a few statements per batch, run on a persistent SQLite connection or on one
pooled PostgreSQL connection, inside one transaction that also takes the write lock (BEGIN
IMMEDIATE; a PostgreSQL advisory lock), so that the duplicate and burst checks see every earlier
answer and the hash chain stays one line even with several workers.

The statements are written once, in `plan_batch`, a generator that yields each query and receives
its rows; a small driver runs it on each backend.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from operator import attrgetter
from typing import Any, NamedTuple, Protocol

import msgspec
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine  # importing it registers the datetime adapters SQLite rows need

from survey_service.core.errors import StorageUnavailable
from survey_service.db.sql import marks, numbered
from survey_service.db.transactions import TAKE_LOCK
from survey_service.ledger.chain import GENESIS, seal
from survey_service.ledger.tally import TallyCache, plan_add, tallies_of
from survey_service.respond.quality import add_flags, burst_since, repeat_flags
from survey_service.respond.schemas import AnswerRow
from survey_service.respond.tables import Response

COLUMNS = [column._meta.db_column_name for column in Response._meta.columns if column is not Response.id]
_values = attrgetter(*COLUMNS)

Query = tuple[str, list[Any]]


class Batch(NamedTuple):
    stored: set[str]  # the nonces this batch stores (not those refused as repeats, by nonce or access code)
    writes: list[Query]  # statements that need no answer: run last, then commit


Plan = Generator[Query, list[tuple], Batch]


def plan_batch(rows: list[AnswerRow], lock: str | None = None, tallies: TallyCache | None = None) -> Plan:
    """Yield the reads that decide how to store the rows not stored before (flagged, sealed and added
    to the tallies); return the writes that store them. The caller's rows are left as they are."""
    if lock:
        yield lock, []
    nonces = [row.nonce for row in rows]
    existing = {
        nonce for (nonce,) in (yield f"SELECT nonce FROM response WHERE nonce IN ({marks(len(nonces))})", nonces)
    }
    # A one-time access code already stored, or used by an earlier row of this batch, is refused as a
    # repeated nonce is: the row is not stored (the unique index on it would refuse it anyway).
    codes = sorted({row.access_code_hash for row in rows if row.access_code_hash})
    used_codes = set()
    if codes:
        found = yield f"SELECT access_code_hash FROM response WHERE access_code_hash IN ({marks(len(codes))})", codes
        used_codes = {code for (code,) in found}
    fresh: dict[str, AnswerRow] = {}
    for row in rows:
        if row.nonce not in existing and row.nonce not in fresh:
            if row.access_code_hash:
                if row.access_code_hash in used_codes:
                    continue
                used_codes.add(row.access_code_hash)
            fresh[row.nonce] = row
    if not fresh:
        return Batch(set(), [])

    incoming = list(fresh.values())
    surveys = sorted({row.survey for row in incoming})
    devices = sorted({row.device_hash for row in incoming if row.device_hash})
    cookieless = sorted({row.network_hash for row in incoming if row.network_hash and not row.device_hash})
    since = burst_since(incoming)
    in_surveys = f"survey IN ({marks(len(surveys))})"
    # A device's whole history in the round is small; a network address's is not (a school behind
    # one NAT), so only recent answers without a device cookie are read for it.
    by_device = devices and (
        yield (
            f"SELECT survey, device_hash, submitted_at >= ? FROM response "
            f"WHERE {in_surveys} AND device_hash IN ({marks(len(devices))})",
            [since, *surveys, *devices],
        )
    )
    by_network = cookieless and (
        yield (
            f"SELECT survey, network_hash, agent_hash FROM response WHERE {in_surveys} "
            f"AND network_hash IN ({marks(len(cookieless))}) AND device_hash IS NULL AND submitted_at >= ?",
            [*surveys, *cookieless, since],
        )
    )
    # Copies: the flags and hashes set here must not leak into the caller's rows, which are planned
    # again if this batch fails and its rows are retried one by one.
    new = [
        msgspec.structs.replace(row, flags=add_flags(row.flags, flags))
        for row, flags in zip(incoming, repeat_flags(incoming, by_device or [], by_network or []))
    ]

    last = yield "SELECT chain_hash FROM response ORDER BY id DESC LIMIT 1", []
    seal(new, last[0][0] if last else GENESIS)
    names = ", ".join(f'"{name}"' for name in COLUMNS)
    values = ", ".join(f"({marks(len(COLUMNS))})" for _ in new)
    insert = f"INSERT INTO response ({names}) VALUES {values}", [value for row in new for value in _values(row)]
    tally = yield from plan_add(tallies_of(new), tallies)
    return Batch(set(fresh), [insert] if tally is None else [insert, tally])


class ResponseStore(Protocol):
    async def insert(self, rows: list[AnswerRow]) -> set[str]:
        """Commit the rows in one transaction; return the nonces actually inserted."""

    async def close(self) -> None: ...


class SQLiteResponseStore:
    """One persistent connection, used on the event loop's own thread: a batch costs well under a
    millisecond here (its queries, its rows' index pages and one WAL fsync). Handing it to a thread
    cost more CPU per answer (about 30 µs measured, bench/submit.py and a writer-only loop) than the
    loop gains. Only when another process holds the write lock does the batch wait for it on a
    thread, so the loop never blocks for long."""

    QUICK_BUSY_MS = 20
    PATIENT_BUSY_MS = 30_000

    def __init__(self, path: str):
        self._path = path
        self._executor: ThreadPoolExecutor | None = None
        self._connection: sqlite3.Connection | None = None
        self._tallies = TallyCache()

    def _thread(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        return self._executor

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(
                self._path, timeout=self.QUICK_BUSY_MS / 1000, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA foreign_keys = 1")
            # FULL: a commit reaches the disk before the respondent is told it is stored.
            connection.execute("PRAGMA synchronous = FULL")
            # Checkpoint the WAL every 10,000 pages, not 1,000: random-key index pages (nonce, device)
            # written many times between checkpoints are copied back once. Measured with 32-answer
            # batches into 30,000-57,000 answers: the commit's CPU per answer falls from 21-27 µs to
            # 17-20 µs; the slowest commit (the one that checkpoints) takes 8-21 ms, not 4-9 ms.
            connection.execute("PRAGMA wal_autocheckpoint = 10000")
            self._connection = connection
        return self._connection

    def _insert(self, rows: list[AnswerRow], busy_ms: int) -> set[str]:
        connection = self._connect()
        connection.execute(f"PRAGMA busy_timeout = {busy_ms}")
        connection.execute("BEGIN IMMEDIATE")
        try:
            plan = plan_batch(rows, tallies=self._tallies)
            try:
                sql, args = next(plan)
                while True:
                    sql, args = plan.send(connection.execute(sql, args).fetchall())
            except StopIteration as done:
                batch = done.value
            for sql, args in batch.writes:
                connection.execute(sql, args)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return batch.stored

    async def insert(self, rows: list[AnswerRow]) -> set[str]:
        try:
            return self._insert(rows, self.QUICK_BUSY_MS)
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                raise
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._thread(), self._insert, rows, self.PATIENT_BUSY_MS)
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                raise
            # Someone else held the database for 30 s: nothing is stored; every sender retries.
            raise StorageUnavailable() from exc

    async def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _busy(exc: sqlite3.OperationalError) -> bool:
    """Another connection holds the write lock (as opposed to a real error)."""
    return "locked" in str(exc) or "busy" in str(exc)


class PostgresResponseStore:
    def __init__(self, engine: PostgresEngine):
        self._engine = engine
        self._tallies = TallyCache()

    async def insert(self, rows: list[AnswerRow]) -> set[str]:
        # READ COMMITTED whatever the server's default: after waiting for the advisory lock, the
        # batch's reads must see what the previous batch committed.
        pool = self._engine.pool
        if pool is None:
            raise RuntimeError("the PostgreSQL connection pool is not open (db.engine.open_pool)")
        async with pool.acquire() as connection, connection.transaction(isolation="read_committed"):
            plan = plan_batch(rows, lock=TAKE_LOCK, tallies=self._tallies)
            try:
                sql, args = next(plan)
                while True:
                    sql, args = plan.send([tuple(record) for record in await connection.fetch(numbered(sql), *args)])
            except StopIteration as done:
                batch = done.value
            for sql, args in batch.writes:
                await connection.execute(numbered(sql), *args)
            return batch.stored

    async def close(self) -> None:
        return None


def response_store(engine: Engine) -> ResponseStore:
    if isinstance(engine, PostgresEngine):
        return PostgresResponseStore(engine)
    if isinstance(engine, SQLiteEngine):
        return SQLiteResponseStore(engine.path)
    raise TypeError(f"no response store for {type(engine).__name__}")
