from pathlib import Path

from piccolo.conf.apps import AppConfig

from survey_service.console.tables import KitLetter

APP_CONFIG = AppConfig(
    app_name="console",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[KitLetter],
    migration_dependencies=["survey_service.surveys.piccolo_app"],
    commands=[],
)
