"""The bureau reviews flagged answers in the console: exclude with a reason, reinstate, audit log."""

from __future__ import annotations

from support.console_session import login, post_form
from support.helpers import fetch, filled_form, link_for, token_of


async def flagged_answer(console, demo_links, settings) -> int:
    """A parent answers every item 满意 (a straight line) right after opening the form (a speeder)."""
    link = link_for(demo_links, "parent")
    html = (await console.get(f"/s/{token_of(link)}")).text
    assert (
        await console.post(f"/s/{token_of(link)}", data=filled_form(html), follow_redirects=False)
    ).status_code == 303
    [row] = await fetch(settings, "SELECT id, flags FROM response")
    assert "straight_liner" in row["flags"]
    return row["id"]


async def test_the_bureau_excludes_and_reinstates_with_reasons_on_record(console, demo_links, settings):
    answer = await flagged_answer(console, demo_links, settings)
    survey = demo_links[0].survey
    await login(console, "chief")
    page = await console.get(f"/console/rounds/{survey}/review")
    assert page.status_code == 200
    assert "所有题目选同一项（1 份）" in page.text and f'id="r{answer}"' in page.text

    refused = await post_form(
        console, f"/console/rounds/{survey}/review/{answer}", {"action": "exclude", "reason": "careless", "note": ""}
    )
    assert refused.status_code == 400 and "请写明理由" in refused.text
    assert (await fetch(settings, "SELECT valid FROM response"))[0]["valid"] in (1, True)

    done = await post_form(
        console,
        f"/console/rounds/{survey}/review/{answer}",
        {"action": "exclude", "reason": "careless", "note": "全部选满意且用时不足 5 秒"},
    )
    assert done.status_code == 303
    row = (await fetch(settings, "SELECT valid, exclusion FROM response"))[0]
    assert row["valid"] in (0, False) and row["exclusion"] == "careless"
    page = await console.get(f"/console/rounds/{survey}/review")
    assert "已剔除（敷衍作答）" in page.text

    await post_form(
        console, f"/console/rounds/{survey}/review/{answer}", {"action": "reinstate", "note": "经核实为本人作答"}
    )
    log = await console.get(f"/console/rounds/{survey}/audit")
    assert log.status_code == 200
    assert log.text.index("全部选满意且用时不足 5 秒") < log.text.index("经核实为本人作答")
    assert "chief" in log.text and "敷衍作答" in log.text and "恢复有效" in log.text


async def test_school_operators_and_forged_posts_cannot_decide(console, demo_links, settings):
    answer = await flagged_answer(console, demo_links, settings)
    survey = demo_links[0].survey
    await login(console, "op01")
    assert (await console.get(f"/console/rounds/{survey}/review")).status_code == 403
    refused = await post_form(
        console,
        f"/console/rounds/{survey}/review/{answer}",
        {"action": "exclude", "reason": "other", "note": "学校想删掉差评"},
    )
    assert refused.status_code == 403
    await login(console, "chief")
    forged = await console.post(
        f"/console/rounds/{survey}/review/{answer}",
        data={"action": "exclude", "reason": "other", "note": "没有安全令牌"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    assert (await fetch(settings, "SELECT valid FROM response"))[0]["valid"] in (1, True)
    assert await fetch(settings, "SELECT * FROM review_decision") == []
