"""Batch inserts of responses, the one hot write of the service.

Piccolo builds a query object per row (about 0.8 ms per response measured under load) and opens a
new SQLite connection per transaction, which capped durable answers near 1,100/s. This path keeps
the SQL to one statement, derived from the Response table's own columns, and runs it on a
persistent SQLite connection in a single writer thread, or on a pooled PostgreSQL connection.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import piccolo.engine.sqlite  # noqa: F401  (registers the datetime adapters the SQLite rows need)
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from survey_service.respond.tables import Response

COLUMNS = [column._meta.db_column_name for column in Response._meta.columns if column is not Response.id]


@functools.lru_cache(maxsize=1024)
def insert_sql(rows: int, placeholder: str) -> str:
    """INSERT … VALUES (…), (…) ON CONFLICT (nonce) DO NOTHING RETURNING nonce, for `rows` rows."""
    width = len(COLUMNS)
    # placeholder: "?" (SQLite) or "$" (PostgreSQL, numbered $1, $2, …)
    mark = (lambda i: "?") if placeholder == "?" else (lambda i: f"${i + 1}")
    values = ", ".join("(" + ", ".join(mark(r * width + c) for c in range(width)) + ")" for r in range(rows))
    names = ", ".join(f'"{name}"' for name in COLUMNS)
    return f"INSERT INTO response ({names}) VALUES {values} ON CONFLICT (nonce) DO NOTHING RETURNING nonce"


def _arguments(rows: list[dict[str, Any]]) -> list[Any]:
    return [row[name] for row in rows for name in COLUMNS]


class ResponseStore(Protocol):
    async def insert(self, rows: list[dict[str, Any]]) -> set[str]:
        """Commit the rows in one transaction; return the nonces actually inserted."""

    async def close(self) -> None: ...


class SQLiteResponseStore:
    """Commits on the event loop's own thread: a batch costs about a millisecond (one WAL fsync), far
    less than handing it to a thread that must then win the GIL back from the busy request handlers
    (about 17 ms per batch measured). Only when another process holds the write lock does the batch
    wait for it in a thread, so the loop never blocks for long."""

    QUICK_BUSY_MS = 20
    PATIENT_BUSY_MS = 30_000

    def __init__(self, path: str):
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self._path, timeout=self.QUICK_BUSY_MS / 1000, isolation_level=None, check_same_thread=False
        )
        connection.execute("PRAGMA foreign_keys = 1")
        # FULL: a commit reaches the disk before the respondent is told it is stored.
        connection.execute("PRAGMA synchronous = FULL")
        return connection

    def _insert(self, rows: list[dict[str, Any]], busy_ms: int) -> set[str]:
        if self._connection is None:
            self._connection = self._connect()
        connection = self._connection
        connection.execute(f"PRAGMA busy_timeout = {busy_ms}")
        connection.execute("BEGIN IMMEDIATE")
        try:
            inserted = connection.execute(insert_sql(len(rows), "?"), _arguments(rows)).fetchall()
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return {nonce for (nonce,) in inserted}

    async def insert(self, rows: list[dict[str, Any]]) -> set[str]:
        try:
            return self._insert(rows, self.QUICK_BUSY_MS)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._insert, rows, self.PATIENT_BUSY_MS)

    async def close(self) -> None:
        def close() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        await asyncio.get_running_loop().run_in_executor(self._executor, close)
        self._executor.shutdown(wait=True)


class PostgresResponseStore:
    def __init__(self, engine: PostgresEngine):
        self._engine = engine

    async def insert(self, rows: list[dict[str, Any]]) -> set[str]:
        sql = insert_sql(len(rows), "$")
        async with self._engine.pool.acquire() as connection:
            inserted = await connection.fetch(sql, *_arguments(rows))
        return {row["nonce"] for row in inserted}

    async def close(self) -> None:
        return None


def response_store(engine: Engine) -> ResponseStore:
    if isinstance(engine, PostgresEngine):
        return PostgresResponseStore(engine)
    return SQLiteResponseStore(engine.path)
