from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.columns.column_types import JSON
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-27T11:35:05:679990"
VERSION = "1.38.0"
DESCRIPTION = "Survey.access_code_groups: the groups whose answer page asks for a one-time access code"


class ExistingRoundsWithout(MigrationManager):
    """Rounds created before this migration printed their links without codes: they ask none (the
    bureau may switch codes on); rounds created afterwards ask 校长 and 人大代表/政协委员 by default."""

    async def run(self, backwards: bool = False):
        await super().run(backwards=backwards)
        if not backwards and not self.preview:
            await engine_finder().run_ddl("UPDATE survey SET access_code_groups = '[]'")


async def forwards():
    manager = ExistingRoundsWithout(
        migration_id=ID, app_name="surveys", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Survey",
        tablename="survey",
        column_name="access_code_groups",
        db_column_name="access_code_groups",
        column_class_name="JSON",
        column_class=JSON,
        params={
            "default": '["principal", "deputy"]',
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
