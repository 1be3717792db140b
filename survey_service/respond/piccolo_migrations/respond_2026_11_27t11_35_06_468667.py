from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-27T11:35:06:468667"
VERSION = "1.38.0"
DESCRIPTION = "Response.access_code_hash: the one-time access code an answer was admitted with, unique"

# Indexes no column declaration can say: a copy of respond/tables.py's INDEXES entry as it was when
# this migration was written (a migration never imports live code).
INDEXES = {
    "response_access_code": "CREATE UNIQUE INDEX response_access_code ON response (access_code_hash) WHERE access_code_hash IS NOT NULL",
}


class WithIndexes(MigrationManager):
    """The index needs its column first (Piccolo runs raw statements before the columns are added).
    Going backwards, it goes with its column."""

    async def run(self, backwards: bool = False):
        await super().run(backwards=backwards)
        if not backwards and not self.preview:
            for statement in INDEXES.values():
                await engine_finder().run_ddl(statement)


async def forwards():
    manager = WithIndexes(
        migration_id=ID, app_name="respond", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Response",
        tablename="response",
        column_name="access_code_hash",
        db_column_name="access_code_hash",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 32,
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
