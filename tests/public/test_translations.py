"""A questionnaire may carry other languages than 简体中文; the page shows them with ?lang=."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from survey_service.core.groups import Group
from survey_service.core.resources import questionnaires_dir
from survey_service.distribution.service import LinkContext
from survey_service.public.views import link_form
from survey_service.questionnaire import load_questionnaire

UYGHUR = """
[translations.ug]
title = "جەمئىيەتنىڭ ئېتىراپ قىلىش دەرىجىسى تەكشۈرۈشى"
[translations.ug.items]
overall = "ئومۇمىي جەھەتتىن رازىمۇ؟"
[translations.ug.options]
satisfied = "رازى"
"""


def test_the_form_is_shown_in_the_requested_language_with_chinese_fallback(tmp_path: Path):
    path = tmp_path / "social.toml"
    path.write_text((questionnaires_dir() / "social.toml").read_text(encoding="utf-8") + UYGHUR, encoding="utf-8")
    questionnaire = load_questionnaire(path)
    now = datetime.now(UTC)
    link = LinkContext(
        token="t",
        link_id=1,
        survey_id=1,
        survey_title="调查",
        region="县",
        opens_at=now,
        closes_at=now,
        school_id=None,
        school_code=None,
        school_name=None,
        group=Group.public,
        questionnaire_id="social",
    )
    uyghur = link_form(link, questionnaire, "nonce", "ug")
    assert uyghur.title.startswith("جەمئىيەت")
    items = {item.id: item for item in uyghur.items}
    assert items["overall"].text == "ئومۇمىي جەھەتتىن رازىمۇ؟"
    assert items["overall"].options[0].label == "رازى"
    # What is not translated stays in Chinese.
    assert items["overall"].options[1].label == "比较满意"
    assert items["moral_education"].text.startswith("您对本县")
    chinese = link_form(link, questionnaire, "nonce", None)
    assert chinese.title == questionnaire.title
    assert {item.id: item for item in chinese.items}["overall"].options[0].label == "满意"
