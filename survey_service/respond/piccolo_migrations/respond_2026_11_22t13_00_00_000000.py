from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T13:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Cheaper indexes for the hot insert: by round alone; cookie-less answers only for the burst check"

# Reports read the tallies now, so the round index needs no stratum columns: (survey) alone grows
# at its end (rowids rise) instead of touching a random page per answer. The burst check by
# network address asks only for answers without a device cookie, so only those enter its index.
OLD = {
    "response_stratum": "response (survey, respondent_group, school)",
    "response_network": "response (network_hash, survey, device_hash, submitted_at)",
}
NEW = {
    "response_survey": "response (survey)",
    "response_network": "response (network_hash, survey, submitted_at) WHERE device_hash IS NULL",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="respond", description=DESCRIPTION)

    async def swap(drop: dict[str, str], create: dict[str, str]) -> None:
        engine = engine_finder()
        for name in drop:
            await engine.run_ddl(f"DROP INDEX {name}")
        for name, target in create.items():
            await engine.run_ddl(f"CREATE INDEX {name} ON {target}")

    async def apply():
        await swap(OLD, NEW)

    async def revert():
        await swap(NEW, OLD)

    manager.add_raw(apply)
    manager.add_raw_backwards(revert)
    return manager
