from pathlib import Path

from piccolo.conf.apps import AppConfig

from survey_service.respond.tables import Response

APP_CONFIG = AppConfig(
    app_name="respond",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Response],
    migration_dependencies=["survey_service.distribution.piccolo_app"],
    commands=[],
)
