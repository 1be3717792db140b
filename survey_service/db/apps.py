"""The Piccolo apps, one per domain that owns tables, each with its tables and its migrations."""

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
        "survey_service.seals.piccolo_app",
        "survey_service.paper.piccolo_app",
    ]
)
