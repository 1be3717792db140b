from pathlib import Path

from piccolo.conf.apps import AppConfig

from survey_service.distribution.tables import AccessCode, KitLetter, Link

APP_CONFIG = AppConfig(
    app_name="distribution",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Link, KitLetter, AccessCode],
    migration_dependencies=["survey_service.schools.piccolo_app"],
    commands=[],
)
