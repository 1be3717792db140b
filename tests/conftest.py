"""Fixtures: a fresh real database per test (a SQLite file; PostgreSQL when SURVEY_TEST_POSTGRES_URL is set),
the demo round in it, and the app driven through Litestar's test client."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from support.browser import chromium
from support.helpers import POSTGRES_URL
from survey_service.app import create_app
from survey_service.core.resources import questionnaires_dir
from survey_service.core.settings import Settings
from survey_service.db.engine import bind, close_pool, make_engine, open_pool, tables
from survey_service.db.migrate import migrate
from survey_service.demo.service import ensure_demo_round
from survey_service.distribution.service import LinkRow, list_links
from survey_service.questionnaire import load_questionnaires

BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])
PUBLIC_URL = "http://survey.test"


def _database_url(base: str, name: str) -> str:
    return base.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """One fresh PostgreSQL database for the run, migrated once, dropped at the end."""
    assert POSTGRES_URL, "SURVEY_TEST_POSTGRES_URL is not set"
    name = f"survey_test_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        # Unreachable PostgreSQL fails the run here: it is never skipped.
        connection = await asyncpg.connect(POSTGRES_URL)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    url = _database_url(POSTGRES_URL, name)
    asyncio.run(_migrate(Settings(database_url=url)))
    yield url
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once keeps the suite fast)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_migrate(Settings(database_url=str(path))))
    return path


async def _migrate(settings: Settings) -> None:
    engine = bind(make_engine(settings))
    await open_pool(engine)
    try:
        await migrate()
    finally:
        await close_pool(engine)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def settings(backend, request, tmp_path) -> Iterator[Settings]:
    if backend == "sqlite":
        path = tmp_path / "survey.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = str(path)
    else:
        url = request.getfixturevalue("postgres_database")
        asyncio.run(_truncate(url))
    yield Settings(
        database_url=url,
        public_url=PUBLIC_URL,
        secret="test-secret",
        link_cache_seconds=0,
        signing_key_file=str(tmp_path / "signing-key.pem"),
    )


async def _truncate(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        names = ", ".join(table._meta.tablename for table in tables())
        await connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await connection.close()


@pytest.fixture
async def database(settings) -> AsyncIterator[Settings]:
    """The engine bound to the test database, for tests that call services directly."""
    engine = bind(make_engine(settings))
    await open_pool(engine)
    yield settings
    await close_pool(engine)


@pytest.fixture
async def demo_links(database) -> list[LinkRow]:
    survey_id = await ensure_demo_round(load_questionnaires(questionnaires_dir()))
    return await list_links(survey_id, database.public_url)


@pytest.fixture
async def client(demo_links, settings) -> AsyncIterator[AsyncTestClient]:
    app = create_app(settings)
    async with AsyncTestClient(app=app, base_url="http://survey.test") as test_client:
        yield test_client


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    with chromium() as launched:
        yield launched
