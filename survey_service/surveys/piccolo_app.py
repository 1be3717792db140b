from pathlib import Path

from piccolo.conf.apps import AppConfig

from survey_service.surveys.tables import Survey

APP_CONFIG = AppConfig(
    app_name="surveys",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Survey],
    migration_dependencies=[],
    commands=[],
)
