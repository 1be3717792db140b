from pathlib import Path

from piccolo.conf.apps import AppConfig

from survey_service.surveys.tables import RoundChange, Survey

APP_CONFIG = AppConfig(
    app_name="surveys",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Survey, RoundChange],
    migration_dependencies=[],
    commands=[],
)
