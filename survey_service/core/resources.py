"""Where the questionnaires and templates are: inside the wheel, or at the top of a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # survey_service/


def resource_dir(name: str) -> Path:
    bundled = _PACKAGE / "_bundled" / name
    return bundled if bundled.is_dir() else _PACKAGE.parent / name


def questionnaires_dir() -> Path:
    return resource_dir("questionnaires")


def templates_dir() -> Path:
    return resource_dir("templates")
