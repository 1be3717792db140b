from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T14:17:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Tallies of the responses stored before tallies existed (after every tally column)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="respond", description=DESCRIPTION)

    async def tally_earlier_rounds():
        from survey_service.respond.tally import rebuild

        for row in await engine_finder().run_ddl("SELECT DISTINCT survey FROM response"):
            await rebuild(row["survey"])

    manager.add_raw(tally_earlier_rounds)
    return manager
