from pathlib import Path

from piccolo.conf.apps import AppConfig

from survey_service.ledger.tables import ResponseTally

APP_CONFIG = AppConfig(
    app_name="ledger",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[ResponseTally],
    migration_dependencies=["survey_service.respond.piccolo_app"],
    commands=[],
)
