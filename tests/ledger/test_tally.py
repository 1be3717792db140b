"""The tallies the results read are kept in step with the answers: by the response writer for every
answer stored, and by review decisions, on every backend."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from support.helpers import answer, fetch, link_for, services
from survey_service.app import create_app
from survey_service.ledger import tally
from survey_service.review.service import decide


async def link_id(settings, link) -> int:
    return (await fetch(settings, "SELECT id FROM link WHERE token = ?", link.token))[0]["id"]


async def answered(settings, demo_links, plan) -> None:
    async with AsyncTestClient(app=create_app(settings), base_url="http://survey.test") as client:
        for group, school, option in plan:
            assert await answer(client, link_for(demo_links, group, school or "WQ01"), option) == 303


async def test_answers_and_review_decisions_keep_the_tallies_equal_to_a_recount(demo_links, settings):
    survey = demo_links[0].survey
    plan = [
        ("parent", "WQ01", "mixed"),
        ("parent", "WQ01", "dissatisfied"),
        ("parent", "WQ02", "mixed"),
        ("student", "WQ01", "mixed"),
        ("teacher", "WQ03", "satisfied"),
        ("deputy", None, "unknown"),
        ("public", None, "mixed"),
    ]
    await answered(settings, demo_links, plan)
    parent_wq01 = await link_id(settings, link_for(demo_links, "parent", "WQ01"))
    deputies = await link_id(settings, link_for(demo_links, "deputy"))
    stored = await fetch(settings, "SELECT id FROM response WHERE link = ? ORDER BY id", parent_wq01)
    async with services(settings):
        assert await tally.check(survey) == []
        kept = await tally.stored(survey)
        [(key, parents)] = [(k, t) for k, t in kept.items() if k[1] == parent_wq01]
        assert key[2] == "social" and parents.returned == 2 and parents.n == 2
        assert parents.sum_y == 1.0 + 0.0  # every item 认可, then every item 不满意
        [deputy] = [t for k, t in kept.items() if k[1] == deputies]
        assert deputy.returned == 1 and deputy.n == 0 and deputy.validity["unrated"] == 1
        assert sum(t.returned for t in kept.values()) == len(plan)

        await decide(survey, [stored[0]["id"]], "exclude", "organised", "班主任代填", "admin")
        assert await tally.check(survey) == []
        after = (await tally.stored(survey))[key]
        assert after.returned == 2 and after.n == 1 and after.sum_y == 0.0
        assert after.validity["reviewed"] == 1 and after.validity["reason_organised"] == 1
        await decide(survey, [stored[0]["id"]], "reinstate", "", "核实后恢复", "admin")
        assert (await tally.stored(survey))[key].n == 2 and await tally.check(survey) == []


async def test_a_recount_finds_answers_changed_behind_the_services_back(demo_links, settings):
    survey = demo_links[0].survey
    await answered(settings, demo_links, [("parent", "WQ01", "mixed")])
    parents = await link_id(settings, link_for(demo_links, "parent"))
    await fetch(settings, "UPDATE response SET valid = ?, exclusion = 'careless'", False)
    async with services(settings):
        [wrong] = await tally.check(survey)
        assert wrong.link == parents and wrong.stored_returned == wrong.counted_returned == 1
        assert await tally.rebuild(survey) == 1
        assert await tally.check(survey) == []
        [kept] = (await tally.stored(survey)).values()
        assert kept.n == 0 and kept.validity["reason_careless"] == 1
