from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-27T13:46:54:089237"
VERSION = "1.38.0"
DESCRIPTION = "response.source: where an answer came from (\"\" online, \"wjx\" 问卷星导入, \"paper\" 纸质问卷)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="respond", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Response",
        tablename="response",
        column_name="source",
        db_column_name="source",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 16,
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
