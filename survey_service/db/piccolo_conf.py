"""Piccolo's configuration module: the apps (db/apps.py), and as `DB` whichever engine
`survey_service.db.engine.bind` set; for Piccolo's own command line
(`PICCOLO_CONF=survey_service.db.piccolo_conf piccolo migrations new APP --auto`), the engine the
SURVEY_* environment names."""

from piccolo.engine.base import Engine

from survey_service.core.settings import load_settings
from survey_service.db.apps import APP_REGISTRY
from survey_service.db.engine import bind, current_engine, is_bound, make_engine

__all__ = ["APP_REGISTRY"]


def __getattr__(name: str) -> Engine:
    if name == "DB":
        return current_engine() if is_bound() else bind(make_engine(load_settings()))
    raise AttributeError(name)
