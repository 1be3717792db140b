"""Piccolo's configuration module: the apps (db/apps.py), and as `DB` whichever engine
`survey_service.db.engine.bind` set."""

from piccolo.engine.base import Engine

from survey_service.db.apps import APP_REGISTRY
from survey_service.db.engine import current_engine

__all__ = ["APP_REGISTRY"]


def __getattr__(name: str) -> Engine:
    if name == "DB":
        return current_engine()
    raise AttributeError(name)
