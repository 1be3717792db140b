"""The schema a fresh `migrate` builds is the one the tables declare: every column, and every index
a column declaration cannot say (each table module's INDEXES), on SQLite and PostgreSQL."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from support.helpers import fetch
from survey_service.db.apps import APP_REGISTRY
from survey_service.db.engine import tables

MIGRATIONS = sorted(Path(config.migrations_folder_path) for config in APP_REGISTRY.app_configs.values())


def declared_indexes() -> dict[str, str]:
    found: dict[str, str] = {}
    for table in tables():
        found |= getattr(sys.modules[table.__module__], "INDEXES", {})
    return found


def test_the_indexes_the_code_relies_on_are_declared_beside_their_tables():
    indexes = {
        "response_device",
        "response_churn",
        "response_tally_key",
        "school_survey_code",
        "response_access_code",
    }
    assert indexes <= set(declared_indexes())


async def test_a_migrated_database_has_every_declared_column_and_index(database):
    for table in tables():
        name = table._meta.tablename
        if database.is_postgres:
            rows = await fetch(
                database, "SELECT column_name FROM information_schema.columns WHERE table_name = ?", name
            )
            columns = {row["column_name"] for row in rows}
        else:
            columns = {row["name"] for row in await fetch(database, f'PRAGMA table_info("{name}")')}
        assert columns == {column._meta.db_column_name for column in table._meta.columns}, name
    for name, statement in declared_indexes().items():
        if database.is_postgres:
            [row] = await fetch(database, "SELECT indexdef FROM pg_indexes WHERE indexname = ?", name)
            assert ("UNIQUE INDEX" in row["indexdef"]) == ("UNIQUE INDEX" in statement)
        else:
            [row] = await fetch(database, "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", name)
            assert row["sql"] == statement


@pytest.mark.parametrize("folder", MIGRATIONS, ids=lambda folder: folder.parent.name)
def test_no_migration_imports_live_code(folder):
    """A migration describes the schema as it was that day; live code would change it afterwards."""
    for migration in folder.glob("*.py"):
        tree = ast.parse(migration.read_text(encoding="utf-8"))
        imported = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        imported += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
        assert not [name for name in imported if name.split(".")[0] in ("survey_service", "analysis")], migration
