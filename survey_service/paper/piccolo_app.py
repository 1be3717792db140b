from pathlib import Path

from piccolo.conf.apps import AppConfig

from survey_service.paper.tables import PaperBatch, PaperEntry, PaperForm

APP_CONFIG = AppConfig(
    app_name="paper",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[PaperBatch, PaperForm, PaperEntry],
    migration_dependencies=["survey_service.respond.piccolo_app"],
    commands=[],
)
