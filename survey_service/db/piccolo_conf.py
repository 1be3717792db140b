"""Piccolo's configuration module. `DB` is whichever engine `survey_service.db.engine.bind` set."""

from piccolo.conf.apps import AppRegistry

APP_REGISTRY = AppRegistry(
    apps=[
        "survey_service.surveys.piccolo_app",
        "survey_service.schools.piccolo_app",
        "survey_service.distribution.piccolo_app",
        "survey_service.respond.piccolo_app",
        "survey_service.ledger.piccolo_app",
        "survey_service.review.piccolo_app",
        "survey_service.accounts.piccolo_app",
    ]
)


def __getattr__(name: str):
    if name == "DB":
        from survey_service.db.engine import current_engine

        return current_engine()
    raise AttributeError(name)
