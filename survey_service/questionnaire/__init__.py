"""Questionnaires are data files (TOML) in questionnaires/, decoded and checked with msgspec."""

from survey_service.questionnaire.loader import QuestionnaireError, load_questionnaire, load_questionnaires
from survey_service.questionnaire.schema import Item, ItemKind, Option, Questionnaire

__all__ = [
    "Item",
    "ItemKind",
    "Option",
    "Questionnaire",
    "QuestionnaireError",
    "load_questionnaire",
    "load_questionnaires",
]
