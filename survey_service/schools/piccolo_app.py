from pathlib import Path

from piccolo.conf.apps import AppConfig

from survey_service.schools.tables import School

APP_CONFIG = AppConfig(
    app_name="schools",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[School],
    migration_dependencies=["survey_service.surveys.piccolo_app"],
    commands=[],
)
