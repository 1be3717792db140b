"""The answer's own quality flags: a positive straight line alone is the commonest honest answer, not
a sign; a straight line on an option that is not 认可, or one answered too fast, is."""

from __future__ import annotations

import time

import pytest

from support.helpers import fetch, filled_form, link_for, token_of
from survey_service.core.resources import questionnaires_dir
from survey_service.questionnaire import load_questionnaires
from survey_service.respond.nonce import issue_nonce
from survey_service.respond.quality import FLAG_LABELS, SPEEDER_SHARE_OF_MEDIAN, Flag, answer_flags

STAFF = load_questionnaires(questionnaires_dir())["staff"]
CODES = [option.code for option in STAFF.scale]
MEDIAN = 90.0  # seconds, a typical round's median for the 15 items


def every(code: str) -> dict[str, str]:
    return {item.id: code for item in STAFF.rated_items}


def flags(answers: dict[str, str], seconds: int | None) -> set[Flag]:
    return answer_flags(STAFF, answers, seconds, MEDIAN)


def test_a_positive_straight_line_at_a_normal_pace_is_not_flagged():
    recognised = [option.code for option in STAFF.scale if option.recognised]
    assert recognised  # 满意, 比较满意, 基本满意 as the scale declares them
    for code in recognised:
        assert flags(every(code), 80) == set()
    assert flags(every(recognised[0]), None) == set()  # no timing known: nothing to combine with


@pytest.mark.parametrize("code", [option.code for option in STAFF.scale if not option.recognised])
def test_a_straight_line_on_an_option_that_is_not_recognition_is_flagged(code):
    # 不满意 and 不了解 (read from the scale: neither counts as 认可), however slowly answered.
    assert flags(every(code), 200) == {Flag.straight_liner}


def test_a_fast_positive_straight_line_is_flagged_as_both():
    assert flags(every("satisfied"), 12) == {Flag.straight_liner, Flag.speeder}
    assert flags(every("satisfied"), int(MEDIAN * SPEEDER_SHARE_OF_MEDIAN) - 1) == {Flag.straight_liner, Flag.speeder}
    assert flags(every("satisfied"), int(MEDIAN * SPEEDER_SHARE_OF_MEDIAN) + 1) == set()


def test_a_varied_answer_is_not_a_straight_line_even_when_fast():
    varied = {item.id: CODES[i % 3] for i, item in enumerate(STAFF.rated_items)}
    assert flags(varied, 80) == set()
    assert flags(varied, 12) == {Flag.speeder}
    # One item apart from the rest is no straight line either.
    almost = every("dissatisfied") | {STAFF.rated_items[0].id: "satisfied"}
    assert flags(almost, 80) == set()


def test_too_few_rated_answers_are_no_straight_line():
    few = {item.id: "dissatisfied" for item in STAFF.rated_items[:4]}
    assert flags(few, 80) == set()


def test_the_label_says_what_the_flag_means():
    assert FLAG_LABELS[Flag.straight_liner].startswith("所有题目选同一项")
    assert "认可" in FLAG_LABELS[Flag.straight_liner] and "过快" in FLAG_LABELS[Flag.straight_liner]


async def post_at_pace(client, settings, link, option: str, seconds: int) -> str:
    """Open the form, answer every item with `option` as if it took `seconds`; the stored flags."""
    html = (await client.get(f"/s/{token_of(link)}")).text
    form = filled_form(html, option)
    form["_nonce"] = issue_nonce(settings.secret, token_of(link), now=time.time() - seconds)
    posted = await client.post(f"/s/{token_of(link)}", data=form, follow_redirects=False)
    assert posted.status_code == 303
    rows = await fetch(settings, "SELECT flags FROM response WHERE nonce = ?", form["_nonce"])
    return rows[0]["flags"]


async def test_through_the_answer_page(client, demo_links, settings):
    """The rule as a respondent meets it: the real answer path into the database."""
    teacher = link_for(demo_links, "teacher")
    assert await post_at_pace(client, settings, teacher, "satisfied", 95) == ""
    assert await post_at_pace(client, settings, link_for(demo_links, "teacher", "WQ02"), "dissatisfied", 95) == (
        "duplicate_device,straight_liner"  # the test client is one device
    )
    client.cookies.clear()  # another phone
    assert await post_at_pace(client, settings, link_for(demo_links, "parent"), "unknown", 95) == "straight_liner"
    client.cookies.clear()
    assert await post_at_pace(client, settings, link_for(demo_links, "student"), "satisfied", 1) == (
        "speeder,straight_liner"
    )
