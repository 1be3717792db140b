from pathlib import Path

from piccolo.conf.apps import AppConfig

from survey_service.accounts.tables import Account, ConsoleSession, LoginThrottle

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Account, ConsoleSession, LoginThrottle],
    migration_dependencies=[],
    commands=[],
)
