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
import os
import sqlite3
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from operator import attrgetter
from typing import Any, NamedTuple, Protocol, TypeVar

import asyncpg
import msgspec
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine  # importing it registers the datetime adapters SQLite rows need

from survey_service.core import keys
from survey_service.core.errors import StorageUnavailable
from survey_service.db.sql import marks, numbered
from survey_service.db.transactions import TAKE_LOCK
from survey_service.ledger.chain import GENESIS, seal
from survey_service.ledger.tally import TallyCache, plan_add, tallies_of
from survey_service.respond.quality import REFUSED, add_flags, burst_since, device_hour_since, repeat_checks
from survey_service.respond.schemas import AnswerRow
from survey_service.respond.tables import Response

COLUMNS = [column._meta.db_column_name for column in Response._meta.columns if column is not Response.id]
_values = attrgetter(*COLUMNS)

Query = tuple[str, list[Any]]


class Batch(NamedTuple):
    stored: set[
        str
    ]  # the nonces this batch stores (not those refused as repeats, by nonce or access code, or over a rate limit)
    writes: list[Query]  # statements that need no answer: run last, then commit


Plan = Generator[Query, list[tuple], Batch]


T = TypeVar("T")


def plan_batch(
    rows: list[AnswerRow], lock: str | None = None, tallies: TallyCache | None = None, chain_key: bytes | None = None
) -> Plan:
    """Yield the reads that decide how to store the rows not stored before (flagged, sealed and added
    to the tallies); return the writes that store them. The caller's rows are left as they are."""
    if lock:
        yield lock, []
    nonces = [row.nonce for row in rows]
    existing: set[str] = set()
    for part in _parts(nonces, MAX_PARAMETERS):
        existing.update(
            nonce for (nonce,) in (yield f"SELECT nonce FROM response WHERE nonce IN ({marks(len(part))})", part)
        )
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
    networks = sorted({row.network_hash for row in incoming if row.network_hash})
    since = burst_since(incoming)
    in_surveys = f"survey IN ({marks(len(surveys))})"
    # A device's whole history in the round is small; a network address's is not (a school behind
    # one NAT), so only its recent answers are read (the response_churn index), for the cookie-less
    # bursts and the new devices churning from one address and browser (respond/quality.py).
    by_device = devices and (
        yield (
            f"SELECT survey, device_hash, submitted_at >= ?, submitted_at >= ? FROM response "
            f"WHERE {in_surveys} AND device_hash IN ({marks(len(devices))})",
            [since, device_hour_since(incoming), *surveys, *devices],
        )
    )
    by_network = networks and (
        yield (
            f"SELECT survey, network_hash, agent_hash, device_hash FROM response WHERE {in_surveys} "
            f"AND network_hash IN ({marks(len(networks))}) AND submitted_at >= ?",
            [*surveys, *networks, since],
        )
    )
    # Copies: the flags and hashes set here must not leak into the caller's rows, which are planned
    # again if this batch fails and its rows are retried one by one. A row over a rate limit is not
    # stored (its sender is answered 429).
    new = [
        msgspec.structs.replace(row, flags=add_flags(row.flags, flags))
        for row, flags in zip(incoming, repeat_checks(incoming, by_device or [], by_network or []))
        if flags is not REFUSED
    ]
    if not new:
        return Batch(set(), [])

    last = yield "SELECT chain_hash FROM response ORDER BY id DESC LIMIT 1", []
    seal(new, last[0][0] if last else GENESIS, chain_key or keys.chain_key())
    names = ", ".join(f'"{name}"' for name in COLUMNS)
    inserts = [
        (
            f"INSERT INTO response ({names}) VALUES {', '.join(f'({marks(len(COLUMNS))})' for _ in part)}",
            [value for row in part for value in _values(row)],
        )
        for part in _parts(new, MAX_PARAMETERS // len(COLUMNS))
    ]
    tally = yield from plan_add(tallies_of(new), tallies)
    return Batch({row.nonce for row in new}, inserts if tally is None else [*inserts, tally])


# A statement carries at most 32,767 parameters on PostgreSQL (older SQLite builds allow fewer): a
# larger batch (an import of thousands of answers, stored in one transaction) is read and inserted
# by several statements of the same transaction.
MAX_PARAMETERS = 30_000


def _parts(items: list[T], size: int) -> list[list[T]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


class ResponseStore(Protocol):
    async def insert(self, rows: list[AnswerRow]) -> set[str]:
        """Commit the rows in one transaction; return the nonces actually inserted. StorageUnavailable
        (its `reason` says why) when the database cannot take writes now: nothing was stored."""

    async def check(self) -> None:
        """Return if answers can be committed now; else raise StorageUnavailable. A real write, but
        none of the service's data changes."""

    async def close(self) -> None: ...


class SQLiteResponseStore:
    """One persistent connection, used on the event loop's own thread: a batch costs well under a
    millisecond here (its queries, its rows' index pages and one WAL fsync). Handing it to a thread
    cost more CPU per answer (about 30 µs measured, bench/submit.py and a writer-only loop) than the
    loop gains. Only when another process holds the write lock does the batch wait for it on a
    thread, so the loop never blocks for long."""

    QUICK_BUSY_MS = 20
    PATIENT_BUSY_MS = 30_000
    CHECK_BUSY_MS = 5_000
    # Less free space than this beside the database counts as a full disk for `check`: a small probe
    # may still fit (in space the WAL holds already) where a batch of answers does not.
    HEADROOM_BYTES = 1024 * 1024

    def __init__(self, path: str, chain_key: bytes | None = None):
        self._path = path
        self._executor: ThreadPoolExecutor | None = None
        self._connection: sqlite3.Connection | None = None
        self._busy_ms = self.QUICK_BUSY_MS  # the connection's busy timeout now
        self._tallies = TallyCache()
        # The key of the hash chain (core/keys.py): the process's settings, else the environment.
        self._chain_key = chain_key or keys.chain_key()

    def _thread(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        return self._executor

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            # Opened while the file cannot be written (a read-only mount or file), SQLite falls back
            # to a read-only connection that stays read-only for good: so any storage failure drops
            # the connection (`_reset`) and the next batch opens a new one.
            connection = sqlite3.connect(
                self._path, timeout=self.QUICK_BUSY_MS / 1000, isolation_level=None, check_same_thread=False
            )
            try:
                _configure(connection)
            except BaseException:
                connection.close()
                raise
            self._connection, self._busy_ms = connection, self.QUICK_BUSY_MS
        return self._connection

    def _wait_for_lock(self, connection: sqlite3.Connection, busy_ms: int) -> None:
        """Wait up to `busy_ms` for another process's write lock; the pragma only when it changes
        (one statement less per batch)."""
        if busy_ms != self._busy_ms:
            connection.execute(f"PRAGMA busy_timeout = {busy_ms}")
            self._busy_ms = busy_ms

    def _reset(self) -> None:
        """Close the connection after a failure; the next batch opens a new one."""
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except sqlite3.Error:
                pass

    def _insert(self, rows: list[AnswerRow], busy_ms: int) -> set[str]:
        connection = self._connect()
        self._wait_for_lock(connection, busy_ms)
        connection.execute("BEGIN IMMEDIATE")
        try:
            plan = plan_batch(rows, tallies=self._tallies, chain_key=self._chain_key)
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
            _rollback(connection)
            raise
        return batch.stored

    async def insert(self, rows: list[AnswerRow]) -> set[str]:
        try:
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
                raise StorageUnavailable(reason=BUSY) from exc
        except sqlite3.IntegrityError:
            raise  # a bad row (the writer tries the batch's rows one by one): the connection is fine
        except sqlite3.Error as exc:
            self._reset()
            if (reason := _sqlite_condition(exc)) is None:
                raise
            raise StorageUnavailable(reason=reason) from exc

    def _probe(self) -> None:
        directory = os.path.dirname(os.path.abspath(self._path))
        space = os.statvfs(directory)
        if space.f_bavail * space.f_frsize < self.HEADROOM_BYTES:
            raise StorageUnavailable(reason=SQLITE_CONDITIONS["SQLITE_FULL"])
        connection = self._connect()
        self._wait_for_lock(connection, self.CHECK_BUSY_MS)
        connection.execute("BEGIN IMMEDIATE")
        try:
            (version,) = connection.execute("PRAGMA user_version").fetchone()
            # The header's user version written back as it is: a real commit (a WAL frame and its
            # fsync) that changes no data. A read-only connection or file refuses it.
            connection.execute(f"PRAGMA user_version = {int(version)}")
            connection.execute("COMMIT")
        except BaseException:
            _rollback(connection)
            raise

    async def check(self) -> None:
        # On the writer's thread: a probe may wait (CHECK_BUSY_MS) for another process's write lock.
        try:
            await asyncio.get_running_loop().run_in_executor(self._thread(), self._probe)
        except StorageUnavailable:
            raise
        except (sqlite3.Error, OSError) as exc:
            self._reset()
            reason = _sqlite_condition(exc) if isinstance(exc, sqlite3.Error) else None
            raise StorageUnavailable(reason=reason or f"the database cannot be written ({exc})") from exc

    async def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        self._reset()


CACHE_KIB = 32 * 1024


def _configure(connection: sqlite3.Connection) -> None:
    connection.execute("PRAGMA foreign_keys = 1")
    # FULL: a commit reaches the disk before the respondent is told it is stored.
    connection.execute("PRAGMA synchronous = FULL")
    # Checkpoint the WAL every 10,000 pages, not 1,000: random-key index pages (nonce, device)
    # written many times between checkpoints are copied back once. Measured with 32-answer
    # batches into 30,000-57,000 answers: the commit's CPU per answer falls from 21-27 µs to
    # 17-20 µs; the slowest commit (the one that checkpoints) takes 8-21 ms, not 4-9 ms.
    connection.execute("PRAGMA wal_autocheckpoint = 10000")
    # A batch's multi-row INSERT keeps a statement journal (so that a refused row undoes the rows
    # before it); past 64 KiB (a few dozen answers) SQLite spilled it to a temporary file, opened,
    # written and closed in every large batch (py-spy --native: pwrite64 during the INSERT, a close
    # at the commit). In memory it costs none of that: bench/answer_path.py's writer process went
    # from 88-108 to 64-88 µs per answer (runs alternating with the code before).
    connection.execute("PRAGMA temp_store = MEMORY")
    # 32 MiB of page cache, not 2: the random-key indexes (nonce, device, network) of a round's
    # answers outgrow 2 MiB after some ten thousand answers, and every insert then read pages back
    # from the file (pread64, 4% of the writer's samples).
    connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")


def _rollback(connection: sqlite3.Connection) -> None:
    """Roll back what is open, if anything is: a full disk or an I/O error may have rolled the
    transaction back already, and a failing ROLLBACK must not hide the error that caused it."""
    if connection.in_transaction:
        try:
            connection.execute("ROLLBACK")
        except sqlite3.Error:
            pass


def _busy(exc: sqlite3.OperationalError) -> bool:
    """Another connection holds the write lock (as opposed to a real error)."""
    return "locked" in str(exc) or "busy" in str(exc)


BUSY = "the database is locked by another process"
# The SQLite result codes (primary, as sqlite_errorname begins) that mean the database cannot take
# writes now, as opposed to a bad row or statement: each a condition the service waits out (503).
SQLITE_CONDITIONS = {
    "SQLITE_READONLY": "the database is read-only",
    "SQLITE_FULL": "the disk is full",
    "SQLITE_IOERR": "the disk fails (I/O error)",
    "SQLITE_CANTOPEN": "the database file cannot be opened",
    "SQLITE_PERM": "no permission to write the database",
    "SQLITE_NOTADB": "the database file is not a database",
    "SQLITE_CORRUPT": "the database file is damaged",
    "SQLITE_NOMEM": "out of memory",
    "SQLITE_PROTOCOL": "the database's file locks failed",
    "SQLITE_BUSY": BUSY,
    "SQLITE_LOCKED": BUSY,
}


def _sqlite_condition(exc: sqlite3.Error) -> str | None:
    name = getattr(exc, "sqlite_errorname", "") or ""
    return SQLITE_CONDITIONS.get("_".join(name.split("_")[:2]))


# What a PostgreSQL write or probe can fail with short of a bad row: the server, the connection, the
# network (each turned into StorageUnavailable or re-raised by PostgresResponseStore._failed).
POSTGRES_FAILURES = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError, TimeoutError)


class PostgresResponseStore:
    def __init__(self, engine: PostgresEngine, chain_key: bytes | None = None):
        self._engine = engine
        self._tallies = TallyCache()
        # The key of the hash chain (core/keys.py): the process's settings, else the environment.
        self._chain_key = chain_key or keys.chain_key()

    def _pool(self) -> asyncpg.Pool:
        pool = self._engine.pool
        if pool is None:
            raise RuntimeError("the PostgreSQL connection pool is not open (db.engine.open_pool)")
        return pool

    async def insert(self, rows: list[AnswerRow]) -> set[str]:
        # READ COMMITTED whatever the server's default: after waiting for the advisory lock, the
        # batch's reads must see what the previous batch committed.
        pool = self._pool()
        try:
            async with pool.acquire() as connection, connection.transaction(isolation="read_committed"):
                plan = plan_batch(rows, lock=TAKE_LOCK, tallies=self._tallies, chain_key=self._chain_key)
                try:
                    sql, args = next(plan)
                    while True:
                        records = await connection.fetch(numbered(sql), *args)
                        sql, args = plan.send([tuple(record) for record in records])
                except StopIteration as done:
                    batch = done.value
                for sql, args in batch.writes:
                    await connection.execute(numbered(sql), *args)
                return batch.stored
        except POSTGRES_FAILURES as exc:
            raise await self._failed(pool, exc) from exc

    async def check(self) -> None:
        pool = self._pool()
        try:
            async with pool.acquire() as connection, connection.transaction():
                # A session of a database set read-only (default_transaction_read_only) or a standby
                # refuses writes; taking a transaction id is a real write (a commit record).
                read_only = await connection.fetchval(
                    "SELECT current_setting('transaction_read_only') = 'on' OR pg_is_in_recovery() "
                    "FROM pg_current_xact_id()"
                )
        except POSTGRES_FAILURES as exc:
            failure = await self._failed(pool, exc)
            raise (failure if isinstance(failure, StorageUnavailable) else StorageUnavailable()) from exc
        if read_only:
            await pool.expire_connections()
            raise StorageUnavailable(reason=POSTGRES_READ_ONLY)

    async def _failed(self, pool: asyncpg.Pool, exc: BaseException) -> BaseException:
        """StorageUnavailable for a condition (every pooled session replaced: one opened while the
        database was read-only stays so); else the error itself (a bad row)."""
        reason = _postgres_condition(exc)
        if reason is None:
            return exc
        await pool.expire_connections()
        return StorageUnavailable(reason=reason)

    async def close(self) -> None:
        return None


POSTGRES_READ_ONLY = "the database is read-only"


def _postgres_condition(exc: BaseException) -> str | None:
    errors = asyncpg.exceptions
    if isinstance(exc, errors.ReadOnlySQLTransactionError):
        return POSTGRES_READ_ONLY
    if isinstance(exc, errors.DiskFullError):
        return "the database server's disk is full"
    if isinstance(exc, errors.InsufficientResourcesError):
        return "the database server lacks resources (memory, connections)"
    if isinstance(exc, errors.PostgresSystemError):
        return "the database server's disk fails (I/O error)"
    if isinstance(
        exc,
        (
            errors.PostgresConnectionError,
            errors.OperatorInterventionError,
            asyncpg.InterfaceError,
            # A pooled connection the server has just closed, caught half-way (asyncpg's own state).
            asyncpg.InternalClientError,
            OSError,
            TimeoutError,
        ),
    ):
        return "the database server cannot be reached"
    return None


def response_store(engine: Engine) -> ResponseStore:
    if isinstance(engine, PostgresEngine):
        return PostgresResponseStore(engine)
    if isinstance(engine, SQLiteEngine):
        return SQLiteResponseStore(engine.path)
    raise TypeError(f"no response store for {type(engine).__name__}")
