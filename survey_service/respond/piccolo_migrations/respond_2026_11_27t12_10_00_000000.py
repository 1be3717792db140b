from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T12:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "response_churn: every answer's network hash (not only cookie-less ones), for device_churn; replaces response_network"

# A copy of respond/tables.py's INDEXES entry as it was when this migration was written (a
# migration never imports live code), and the index it replaces.
INDEXES = {
    "response_churn": "CREATE INDEX response_churn ON response (network_hash, survey, submitted_at)",
}
REPLACED = {
    "response_network": "CREATE INDEX response_network ON response (network_hash, survey, submitted_at) "
    "WHERE device_hash IS NULL",
}


class WithIndexes(MigrationManager):
    async def run(self, backwards: bool = False):
        await super().run(backwards=backwards)
        if self.preview:
            return
        engine = engine_finder()
        if backwards:
            for name in INDEXES:
                await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")
            for statement in REPLACED.values():
                await engine.run_ddl(statement)
        else:
            for statement in INDEXES.values():
                await engine.run_ddl(statement)
            for name in REPLACED:
                await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")


async def forwards():
    return WithIndexes(migration_id=ID, app_name="respond", description=DESCRIPTION)
