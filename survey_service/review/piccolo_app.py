from pathlib import Path

from piccolo.conf.apps import AppConfig

from survey_service.review.tables import ReviewDecision

APP_CONFIG = AppConfig(
    app_name="review",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[ReviewDecision],
    migration_dependencies=["survey_service.respond.piccolo_app"],
    commands=[],
)
