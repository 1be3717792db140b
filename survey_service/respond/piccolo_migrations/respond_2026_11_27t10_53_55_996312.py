from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-27T10:53:55:996312"
VERSION = "1.38.0"
DESCRIPTION = "Response.kept: a review decision to keep a flagged answer"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="respond", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Response",
        tablename="response",
        column_name="kept",
        db_column_name="kept",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 32,
            "default": "",
            "null": False,
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
