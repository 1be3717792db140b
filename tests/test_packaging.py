"""`pip install .` gives a working product: the questionnaires and templates travel inside the wheel."""

from __future__ import annotations

from pathlib import Path

import pytest

import survey_service
from survey_service.core.resources import questionnaires_dir, templates_dir
from survey_service.questionnaire import load_questionnaires

CHECKOUT = Path(__file__).resolve().parent.parent


def test_installed_package_carries_questionnaires_and_templates():
    package = Path(survey_service.__file__).resolve().parent
    if package.parent == CHECKOUT:
        pytest.skip("running from the checkout (editable install); CI runs this against the installed wheel")
    assert questionnaires_dir() == package / "_bundled" / "questionnaires"
    assert set(load_questionnaires(questionnaires_dir())) == {"student", "staff", "social"}
    assert (templates_dir() / "respond" / "form.html").is_file()
