"""The bureau's review: every flagged answer ends in a decision (keep or exclude, each with a reason
and a written note), one or many at once, reversible, logged; the results count 待审核 until then."""

from __future__ import annotations

import pytest

from support.flagged import SOCIAL, ParentLink, parent_rows
from support.flagged import parent_link as parent_of
from support.helpers import insert_responses
from support.planned_answers import COLUMNS, QUESTIONNAIRES
from survey_service.core.errors import Conflict, InvalidForm, NotFound
from survey_service.ledger import tally
from survey_service.respond.tables import Response
from survey_service.results.service import round_result
from survey_service.review.queue import ReviewFilter, matching_ids, review_queue
from survey_service.review.service import audit_log, decide


async def ids_of(survey: int) -> list[int]:
    return [
        row["id"] for row in await Response.select(Response.id).where(Response.survey == survey).order_by(Response.id)
    ]


@pytest.fixture
async def parent_link(database, demo_links) -> ParentLink:
    return await parent_of(database, demo_links)


async def test_flagged_answers_queue_by_sender_with_the_answers_and_evidence(database, parent_link):
    survey = parent_link.survey
    await insert_responses(database, COLUMNS, parent_rows(parent_link, 4, "duplicate_device,burst", device="d1"))
    await insert_responses(
        database, COLUMNS, parent_rows(parent_link, 1, "straight_liner", device="d2", option="dissatisfied")
    )
    await insert_responses(database, COLUMNS, parent_rows(parent_link, 2, "burst", device=None))
    await insert_responses(database, COLUMNS, parent_rows(parent_link, 3, "", device="d3"))
    queue = await review_queue(survey, QUESTIONNAIRES, ReviewFilter())
    assert queue.summary.flagged == 7 and queue.summary.by_status == {"pending": 7, "kept": 0, "excluded": 0}
    assert [(s.kind, s.size) for s in queue.senders] == [("同一设备", 4), ("同一网络地址和浏览器", 2), ("同一设备", 1)]
    negative = queue.senders[2].answers[0]
    assert negative.summary == f"不满意 {len(SOCIAL.rated_items)}"
    assert f"全部 {len(SOCIAL.rated_items)} 道评价题均选“不满意”" in negative.evidence
    assert negative.chosen[0].item == SOCIAL.rated_items[0].text and negative.chosen[0].option == "不满意"
    assert "这部设备此前已在本轮提交过答卷" in queue.senders[0].answers[0].evidence
    burst = await review_queue(survey, QUESTIONNAIRES, ReviewFilter(flag="burst"))
    assert burst.matching == 6 and len(burst.senders) == 2


async def test_a_whole_review_is_finished_in_bulk_and_the_results_count_no_pending(database, parent_link):
    survey = parent_link.survey
    await insert_responses(database, COLUMNS, parent_rows(parent_link, 6, "duplicate_device,burst", device="d1"))
    await insert_responses(
        database, COLUMNS, parent_rows(parent_link, 3, "straight_liner", device="d2", option="dissatisfied")
    )
    await insert_responses(database, COLUMNS, parent_rows(parent_link, 5, "", device="d3"))
    before = (await round_result(survey, questionnaires=QUESTIONNAIRES)).validity
    assert (before.returned, before.valid, before.flagged, before.pending, before.kept) == (14, 14, 9, 9, {})

    stuffed = await matching_ids(survey, ReviewFilter(flag="burst"))
    outcome = await decide(survey, stuffed, "exclude", "organised", "同一设备十分钟内连续提交 6 份", "chief")
    assert (outcome.changed, outcome.unchanged) == (6, 0)
    rest = await matching_ids(survey, ReviewFilter())
    assert len(rest) == 3
    await decide(survey, rest, "keep", "genuine", "电话回访确认家长确实不满意", "chief")

    after = (await round_result(survey, questionnaires=QUESTIONNAIRES)).validity
    assert (after.returned, after.valid, after.flagged, after.pending) == (14, 8, 9, 0)
    assert after.kept == {"genuine": 3} and after.excluded == {"organised": 6}
    assert (await review_queue(survey, QUESTIONNAIRES, ReviewFilter())).summary.by_status == {
        "pending": 0,
        "kept": 3,
        "excluded": 6,
    }
    assert await tally.check(survey) == []
    log = await audit_log(survey)
    assert len(log) == 9 and {(d.action_label, d.reason_label, d.actor) for d in log} == {
        ("剔除", "组织代答或刷票", "chief"),
        ("确认有效", "核实为真实作答", "chief"),
    }


async def test_decisions_are_reversible_and_all_or_nothing(database, parent_link):
    survey = parent_link.survey
    await insert_responses(database, COLUMNS, parent_rows(parent_link, 3, "speeder", device="d1"))
    ids = await ids_of(survey)
    with pytest.raises(InvalidForm, match="理由"):
        await decide(survey, ids, "exclude", "careless", "  ", "chief")
    with pytest.raises(InvalidForm, match="剔除原因"):
        await decide(survey, ids, "exclude", "genuine", "用时过短", "chief")
    with pytest.raises(InvalidForm, match="确认有效的理由"):
        await decide(survey, ids, "keep", "careless", "用时过短", "chief")
    with pytest.raises(InvalidForm, match="勾选"):
        await decide(survey, [], "keep", "genuine", "用时过短", "chief")
    with pytest.raises(NotFound):  # one unknown id: nothing is decided
        await decide(survey, [*ids, 987654], "exclude", "careless", "用时过短", "chief")
    assert await audit_log(survey) == []
    assert {row["valid"] for row in await Response.select(Response.valid)} == {True}

    await decide(survey, ids[:1], "exclude", "careless", "12 秒答完 15 题", "chief")
    outcome = await decide(survey, ids, "exclude", "careless", "12 秒答完 15 题", "chief")
    assert (outcome.changed, outcome.unchanged) == (2, 1)
    with pytest.raises(Conflict):
        await decide(survey, ids, "exclude", "careless", "再次剔除", "chief")
    await decide(survey, ids[:1], "reinstate", "", "复核：该家长阅读很快", "reviewer2")
    await decide(survey, ids[:1], "keep", "genuine", "复核：该家长阅读很快", "reviewer2")
    rows = await Response.select(Response.valid, Response.exclusion, Response.kept).order_by(Response.id)
    assert rows[0] == {"valid": True, "exclusion": "", "kept": "genuine"}
    assert rows[1] == {"valid": False, "exclusion": "careless", "kept": ""}
    assert [d.action_label for d in await audit_log(survey)] == ["剔除", "剔除", "剔除", "撤销决定", "确认有效"]
    assert await tally.check(survey) == []


async def test_five_thousand_flagged_answers_page_and_decide_at_once(database, parent_link):
    survey = parent_link.survey
    rows = []
    for sender in range(1000):
        rows += parent_rows(parent_link, 5, "duplicate_device", device=f"d{sender}")
    await insert_responses(database, COLUMNS, rows)
    queue = await review_queue(survey, QUESTIONNAIRES, ReviewFilter(page=7))
    assert queue.matching == 5000 and queue.sender_count == 1000 and queue.pages == 50 and len(queue.senders) == 20
    outcome = await decide(
        survey, await matching_ids(survey, ReviewFilter()), "keep", "shared_device", "一户多人共用手机", "chief"
    )
    assert outcome.changed == 5000
    assert [s.number for s in queue.senders] == list(range(121, 141))
    assert (await round_result(survey, questionnaires=QUESTIONNAIRES)).validity.pending == 0
    assert len(await audit_log(survey)) == 5000 and await tally.check(survey) == []
