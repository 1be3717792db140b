from pathlib import Path

from piccolo.conf.apps import AppConfig

from survey_service.seals.tables import ChainSwitch, Checkpoint, SealedState

APP_CONFIG = AppConfig(
    app_name="seals",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[SealedState, ChainSwitch, Checkpoint],
    migration_dependencies=[],
    commands=[],
)
