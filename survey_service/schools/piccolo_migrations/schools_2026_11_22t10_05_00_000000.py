from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T10:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "A school code names one school within a round"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="schools", description=DESCRIPTION)

    async def school_survey_code():
        await engine_finder().run_ddl("CREATE UNIQUE INDEX school_survey_code ON school (survey, code)")

    async def drop_school_survey_code():
        await engine_finder().run_ddl("DROP INDEX school_survey_code")

    manager.add_raw(school_survey_code)
    manager.add_raw_backwards(drop_school_survey_code)
    return manager
