"""The bureau's review: flagged answers grouped by reason, exclusion with a written reason, the audit log."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from survey_service.core.errors import Conflict, InvalidForm, NotFound
from survey_service.respond.tables import Response
from survey_service.review.service import audit_log, decide, flagged_answers


async def store(link, flags: str) -> int:
    rows = await Response.insert(
        Response(
            survey=link.survey,
            link=1,
            school=1,
            respondent_group="parent",
            questionnaire_id="social",
            questionnaire_version="t",
            answers="{}",
            choices="",
            recognition=1.0,
            score=100.0,
            submitted_at=datetime.now(UTC),
            seconds_taken=5,
            nonce=uuid.uuid4().hex,
            flags=flags,
        )
    )
    return rows[0]["id"]


async def test_flagged_answers_are_grouped_by_each_of_their_flags(demo_links):
    survey = demo_links[0].survey
    both = await store(demo_links[0], "duplicate_device,speeder")
    fast = await store(demo_links[0], "speeder")
    await store(demo_links[0], "")
    groups = {group.flag: group for group in await flagged_answers(survey)}
    assert [a.id for a in groups["speeder"].answers] == [both, fast]
    assert [a.id for a in groups["duplicate_device"].answers] == [both]
    assert groups["burst"].answers == [] and groups["straight_liner"].answers == []
    assert groups["speeder"].label == "答题过快"
    assert groups["speeder"].answers[0].flag_labels == ["同一设备重复作答", "答题过快"]


async def test_exclude_and_reinstate_need_a_written_reason_and_are_logged(demo_links):
    survey = demo_links[0].survey
    answer = await store(demo_links[0], "burst")
    with pytest.raises(InvalidForm, match="理由"):
        await decide(survey, answer, "exclude", "organised", "  ", "admin")
    with pytest.raises(InvalidForm, match="原因"):
        await decide(survey, answer, "exclude", "no-such-reason", "同一时段集中提交", "admin")
    with pytest.raises(NotFound):
        await decide(survey, 987654, "exclude", "organised", "同一时段集中提交", "admin")
    assert (await Response.select(Response.valid).where(Response.id == answer).first())["valid"] is True

    await decide(survey, answer, "exclude", "organised", "同一时段集中提交，疑似组织代答", "admin")
    row = await Response.select(Response.valid, Response.exclusion).where(Response.id == answer).first()
    assert row == {"valid": False, "exclusion": "organised"}
    with pytest.raises(Conflict):
        await decide(survey, answer, "exclude", "organised", "再次剔除", "admin")
    await decide(survey, answer, "reinstate", "", "核实为家长本人填写", "reviewer2")
    row = await Response.select(Response.valid, Response.exclusion).where(Response.id == answer).first()
    assert row == {"valid": True, "exclusion": ""}

    log = await audit_log(survey)
    assert [(d.action, d.reason_label, d.actor) for d in log] == [
        ("exclude", "组织代答或刷票", "admin"),
        ("reinstate", "恢复有效", "reviewer2"),
    ]
    assert log[0].note == "同一时段集中提交，疑似组织代答" and log[0].response_id == answer
