"""The two transactions other code needs around the response writer: one that holds its write lock,
one whose reads all see one moment."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import TransactionType

ADVISORY_LOCK = 7_231_001  # serialises response batches across PostgreSQL workers
TAKE_LOCK = f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK})"


@contextlib.asynccontextmanager
async def locked_transaction(engine: Engine) -> AsyncIterator[None]:
    """A Piccolo transaction holding the response write lock (BEGIN IMMEDIATE; the writer's advisory
    lock), for changes to responses outside the writer: no batch commits in between."""
    if isinstance(engine, PostgresEngine):
        async with engine.transaction():
            await engine.run_ddl(TAKE_LOCK)
            yield
    else:
        async with engine.transaction(transaction_type=TransactionType.immediate):
            yield


@contextlib.asynccontextmanager
async def read_snapshot(engine: Engine) -> AsyncIterator[None]:
    """A Piccolo transaction whose reads all see one moment, while answers keep arriving (SQLite's WAL
    gives each read transaction a snapshot; PostgreSQL needs REPEATABLE READ)."""
    async with engine.transaction():
        if isinstance(engine, PostgresEngine):
            await engine.run_ddl("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield
