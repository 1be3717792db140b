from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T10:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Per-stratum aggregates read responses by round, group and school"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="respond", description=DESCRIPTION)

    async def response_stratum():
        await engine_finder().run_ddl("CREATE INDEX response_stratum ON response (survey, respondent_group, school)")

    async def drop_response_stratum():
        await engine_finder().run_ddl("DROP INDEX response_stratum")

    manager.add_raw(response_stratum)
    manager.add_raw_backwards(drop_response_stratum)
    return manager
