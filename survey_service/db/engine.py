"""Create the engine from the settings and bind every table to it."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.table import Table

from survey_service.core import keys
from survey_service.core.settings import Settings
from survey_service.db.apps import APP_REGISTRY

PICCOLO_CONF = "survey_service.db.piccolo_conf"

_engine: Engine | None = None


def make_engine(settings: Settings) -> Engine:
    # The tamper-evidence keys (SURVEY_SECRET, the signing key file) follow the database's settings.
    keys.use(settings)
    if settings.is_postgres:
        return PostgresEngine(config={"dsn": settings.database_url})
    path = Path(settings.sqlite_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _enable_wal(path)
    # A generous busy timeout: the writer's IMMEDIATE transactions make other writers wait, not fail.
    return SQLiteEngine(path=str(path), timeout=30)


def _enable_wal(path: Path) -> None:
    """WAL is a property of the database file: set it once, before any engine connection."""
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


def tables() -> list[type[Table]]:
    """Every table of every Piccolo app (db/piccolo_conf.py names the apps; each declares its own)."""
    return [table for app in APP_REGISTRY.app_configs.values() for table in app.table_classes]


def bind(engine: Engine) -> Engine:
    """Make `engine` the one every table and Piccolo's own machinery use in this process."""
    global _engine
    _engine = engine
    os.environ["PICCOLO_CONF"] = PICCOLO_CONF
    every: list[type[Table]] = [*tables(), Migration]
    for table in every:
        table._meta.db = engine
    return engine


def is_bound() -> bool:
    return _engine is not None


def current_engine() -> Engine:
    if _engine is None:
        raise RuntimeError("no database engine bound; call survey_service.db.engine.bind first")
    return _engine


async def open_pool(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=2, max_size=10)


async def close_pool(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()


@contextlib.asynccontextmanager
async def connected(settings: Settings) -> AsyncIterator[Engine]:
    """The database bound (and on PostgreSQL its pool open) for work outside the app: the commands,
    the workbook process."""
    engine = bind(make_engine(settings))
    await open_pool(engine)
    try:
        yield engine
    finally:
        await close_pool(engine)
