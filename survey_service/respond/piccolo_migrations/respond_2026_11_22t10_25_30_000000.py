from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T10:25:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "Indexes for the duplicate-device and burst checks"

# The hash leads: a query by round alone must not pick these over the stratum index.
INDEXES = {
    "response_device": "response (device_hash, survey)",
    "response_network": "response (network_hash, survey, device_hash, submitted_at)",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="respond", description=DESCRIPTION)

    async def create_indexes():
        for name, target in INDEXES.items():
            await engine_finder().run_ddl(f"CREATE INDEX {name} ON {target}")

    async def drop_indexes():
        for name in INDEXES:
            await engine_finder().run_ddl(f"DROP INDEX {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
