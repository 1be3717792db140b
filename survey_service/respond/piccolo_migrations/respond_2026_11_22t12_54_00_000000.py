from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T12:54:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "The tally key"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="respond", description=DESCRIPTION)

    async def create_key():
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX response_tally_key ON response_tally "
            "(survey, link, questionnaire_id, questionnaire_version)"
        )

    async def drop_key():
        await engine_finder().run_ddl("DROP INDEX response_tally_key")

    manager.add_raw(create_key)
    manager.add_raw_backwards(drop_key)
    return manager
