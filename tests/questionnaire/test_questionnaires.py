"""The shipped questionnaires load and fit the survey; malformed files fail with a usable message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from survey_service.core.groups import Group
from survey_service.questionnaire import (
    ItemKind,
    QuestionnaireError,
    load_questionnaire,
    load_questionnaires,
)

REPO = Path(__file__).resolve().parents[2]
QUESTIONNAIRES = REPO / "questionnaires"
SCALE_LABELS = ["满意", "比较满意", "基本满意", "不满意", "不了解"]


@pytest.fixture(scope="module")
def shipped():
    return load_questionnaires(QUESTIONNAIRES)


# --- the shipped questionnaires ----------------------------------------------------------


def test_shipped_ids(shipped):
    assert set(shipped) == {"student", "staff", "social"}


@pytest.mark.parametrize("qid", ["student", "staff", "social"])
def test_rated_items_and_one_optional_text_item(shipped, qid):
    q = shipped[qid]
    assert 8 <= len(q.rated_items) <= 15
    text_items = [item for item in q.items if item.kind is ItemKind.text]
    assert len(text_items) == 1
    assert text_items[0].required is False
    assert q.items[-1] is text_items[0]  # the 意见建议 item comes last
    assert not [item for item in q.items if item.kind is ItemKind.choice]


@pytest.mark.parametrize("qid", ["student", "staff", "social"])
def test_item_ids_unique_snake_case(shipped, qid):
    ids = [item.id for item in shipped[qid].items]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", item_id) for item_id in ids)


def test_every_group_served_by_exactly_one_questionnaire(shipped):
    for group in Group:
        serving = [qid for qid, q in shipped.items() if group in q.groups]
        assert len(serving) == 1, (group, serving)
    assert shipped["student"].groups == [Group.student]
    assert set(shipped["staff"].groups) == {Group.teacher, Group.principal}
    assert set(shipped["social"].groups) == {Group.parent, Group.deputy, Group.public}


@pytest.mark.parametrize("qid", ["student", "staff", "social"])
def test_scale(shipped, qid):
    scale = shipped[qid].scale
    assert [option.label for option in scale] == SCALE_LABELS
    by_label = {option.label: option for option in scale}
    assert [o.label for o in scale if o.recognised] == ["满意", "比较满意", "基本满意"]
    assert [o.label for o in scale if o.excluded] == ["不了解"]
    assert by_label["不了解"].recognised is False
    assert by_label["不了解"].score is None
    assert [by_label[label].score for label in SCALE_LABELS[:4]] == [100, 80, 60, 0]


@pytest.mark.parametrize("qid", ["student", "staff", "social"])
def test_no_personal_questions(shipped, qid):
    for item in shipped[qid].items:
        for word in ("姓名", "电话", "手机", "身份证", "班级", "学号"):
            assert word not in item.text, (item.id, word)


# --- malformed files ---------------------------------------------------------------------

SOCIAL = (QUESTIONNAIRES / "social.toml").read_text(encoding="utf-8")


def _replace(old: str, new: str) -> str:
    assert SOCIAL.count(old) >= 1, old
    return SOCIAL.replace(old, new, 1)


def _error(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(QuestionnaireError) as info:
        load_questionnaire(path)
    message = str(info.value)
    assert message.startswith(f"{name}: "), message
    return message


def test_social_base_loads(tmp_path):
    # The malformed cases below are one edit away from this valid file.
    path = tmp_path / "ok.toml"
    path.write_text(SOCIAL, encoding="utf-8")
    assert load_questionnaire(path).id == "social"


def test_missing_title(tmp_path):
    content = re.sub(r"^title = .*\n", "", SOCIAL, count=1, flags=re.M)
    message = _error(tmp_path, "no_title.toml", content)
    assert message == "no_title.toml: Object missing required field `title`"


def test_unknown_top_level_field(tmp_path):
    content = _replace('version = "2026.1"', 'version = "2026.1"\nauthor = "教育局"')
    message = _error(tmp_path, "extra.toml", content)
    assert message == "extra.toml: Object contains unknown field `author`"


def test_unknown_item_field(tmp_path):
    content = _replace('id = "equity_policy"', 'id = "equity_policy"\nhint = "提示"')
    message = _error(tmp_path, "extra_item.toml", content)
    assert message == "extra_item.toml: Object contains unknown field `hint` - at `$.items[1]`"


def test_score_above_100(tmp_path):
    message = _error(tmp_path, "score.toml", _replace("score = 100", "score = 150"))
    assert "<= 100" in message
    assert "`$.scale[0].score`" in message


def test_unknown_group(tmp_path):
    content = _replace('groups = ["parent", "deputy", "public"]', 'groups = ["parent", "parents"]')
    message = _error(tmp_path, "group.toml", content)
    assert "Invalid enum value 'parents'" in message
    assert "`$.groups[1]`" in message


def test_duplicate_item_ids(tmp_path):
    content = _replace('id = "equity_policy"', 'id = "moral_education"')
    message = _error(tmp_path, "dup.toml", content)
    assert "duplicate item id `moral_education`" in message
    assert "`$.items[1].id`" in message


def test_overall_item_missing(tmp_path):
    content = _replace("groups = [", 'overall_item = "no_such_item"\ngroups = [')
    message = _error(tmp_path, "overall.toml", content)
    assert "`no_such_item`" in message
    assert "`$.overall_item`" in message


def test_overall_item_not_a_scale_item(tmp_path):
    content = _replace("groups = [", 'overall_item = "suggestions"\ngroups = [')
    message = _error(tmp_path, "overall_text.toml", content)
    assert "`suggestions` is not a scale item - at `$.overall_item`" in message


def test_choice_item_with_one_option(tmp_path):
    content = SOCIAL + (
        '\n[[items]]\nid = "role"\ntext = "您的身份"\nkind = "choice"\nrequired = false\n'
        '\n[[items.options]]\ncode = "parent"\nlabel = "家长"\n'
    )
    message = _error(tmp_path, "choice.toml", content)
    index = SOCIAL.count("[[items]]")  # the appended item
    assert f"a choice item needs at least 2 options - at `$.items[{index}].options`" in message


def test_invalid_toml_syntax(tmp_path):
    message = _error(tmp_path, "syntax.toml", _replace('id = "social"', 'id = "social'))
    assert "(at line 2, column" in message


def test_not_utf8(tmp_path):
    message = _error(tmp_path, "gbk.toml", SOCIAL.encode("gbk"))
    assert "not UTF-8" in message


def test_excluded_option_recognised(tmp_path):
    content = _replace("excluded = true", "excluded = true\nrecognised = true")
    message = _error(tmp_path, "excluded.toml", content)
    assert "an excluded option neither counts as recognised nor has a score" in message
    assert "`$.scale[4]`" in message


def test_duplicate_questionnaire_id_in_directory(tmp_path):
    (tmp_path / "a.toml").write_text(SOCIAL, encoding="utf-8")
    (tmp_path / "b.toml").write_text(SOCIAL, encoding="utf-8")
    with pytest.raises(QuestionnaireError, match=r"^b\.toml: duplicate questionnaire id `social`"):
        load_questionnaires(tmp_path)
