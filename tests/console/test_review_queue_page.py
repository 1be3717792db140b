"""The review page as the bureau uses it: flagged answers grouped by sender, decided in bulk, until
the review is finished and the results show no 待审核."""

from __future__ import annotations

from support.console_session import login, post_form
from support.flagged import SOCIAL, parent_link, parent_rows
from support.helpers import fetch, insert_responses
from support.planned_answers import COLUMNS


async def stuffed_round(settings, demo_links):
    """Six answers from one phone in minutes, three honest-looking negative straight lines, five clean."""
    link = await parent_link(settings, demo_links)
    await insert_responses(settings, COLUMNS, parent_rows(link, 6, "burst,duplicate_device", device="phone"))
    for k in range(3):
        rows = parent_rows(link, 1, "straight_liner", device=f"d{k}", option="dissatisfied")
        await insert_responses(settings, COLUMNS, rows)
    await insert_responses(settings, COLUMNS, parent_rows(link, 5, "", device="clean"))
    return link.survey


async def ids(settings, flags: str) -> list[int]:
    return [r["id"] for r in await fetch(settings, "SELECT id FROM response WHERE flags = ? ORDER BY id", flags)]


async def test_a_whole_review_is_finished_in_bulk(console, demo_links, settings):
    survey = await stuffed_round(settings, demo_links)
    await login(console, "chief")
    page = await console.get(f"/console/rounds/{survey}/review")
    assert page.status_code == 200
    text = page.text
    assert "标记答卷 9 份：待审核 <strong>9</strong>" in text
    assert "发送方 1 · 同一设备 · 6 份" in text and "各自单独提交的答卷（本页 3 份）" in text
    assert "另有 1 份未列出" in text  # five of the phone's six are listed
    assert f"不满意 {len(SOCIAL.rated_items)}" in text and "逐题查看" in text
    assert SOCIAL.rated_items[0].text in text
    assert "用时 40 秒" not in text and "40 秒" in text

    pending = (await console.get(f"/console/rounds/{survey}/results")).text
    assert "其中待审核（决定前仍计入）" in pending and "其中审核后剔除" in pending

    phone = await ids(settings, "burst,duplicate_device")
    done = await post_form(
        console,
        f"/console/rounds/{survey}/review",
        {
            "sender": ",".join(map(str, phone)),
            "action": "exclude",
            "exclude_reason": "organised",
            "keep_reason": "genuine",
            "note": "同一部手机 6 分钟内提交 6 份",
        },
    )
    assert done.status_code == 303
    assert "已处理 6 份答卷" in (await console.get(done.headers["location"])).text
    assert {r["valid"] for r in await fetch(settings, "SELECT valid FROM response WHERE id IN (?, ?)", *phone[:2])} in (
        {0},
        {False},
    )

    stale = await post_form(
        console,
        f"/console/rounds/{survey}/review",
        {
            "scope": "filter",
            "status": "pending",
            "expected": "5",
            "action": "keep",
            "keep_reason": "genuine",
            "note": "回访确认",
        },
    )
    assert stale.status_code == 409 and "筛选结果已有变化" in stale.text
    kept = await post_form(
        console,
        f"/console/rounds/{survey}/review",
        {
            "scope": "filter",
            "status": "pending",
            "expected": "3",
            "action": "keep",
            "keep_reason": "genuine",
            "note": "电话回访确认家长确实不满意",
        },
    )
    assert kept.status_code == 303
    finished = (await console.get(f"/console/rounds/{survey}/review")).text
    assert "审核已完成" in finished and "待审核 <strong>0</strong>" in finished

    results = (await console.get(f"/console/rounds/{survey}/results")).text
    assert "待审核" not in results
    assert "其中审核后确认有效：核实为真实作答" in results and "其中审核后剔除" in results
    audit = (await console.get(f"/console/rounds/{survey}/audit")).text
    assert audit.count("组织代答或刷票") == 6 and audit.count("核实为真实作答") == 3


async def test_a_bad_decision_changes_nothing(console, demo_links, settings):
    survey = await stuffed_round(settings, demo_links)
    await login(console, "chief")
    phone = ",".join(map(str, await ids(settings, "burst,duplicate_device")))
    for fields, message in [
        ({"sender": phone, "action": "exclude", "exclude_reason": "organised", "note": ""}, "请写明理由"),
        ({"action": "exclude", "exclude_reason": "organised", "note": "没有勾选任何答卷"}, "请先勾选"),
        ({"ids": "12x", "action": "keep", "keep_reason": "genuine", "note": "伪造的编号"}, "所选答卷无效"),
        ({"ids": "99999999999", "action": "keep", "keep_reason": "genuine", "note": "不存在的编号"}, "找不到"),
        ({"sender": phone, "action": "drop", "note": "未知的操作"}, "未知的操作"),
    ]:
        refused = await post_form(console, f"/console/rounds/{survey}/review", fields)
        assert refused.status_code in (400, 404) and message in refused.text, (fields, refused.status_code)
    assert await fetch(settings, "SELECT * FROM review_decision") == []
    assert {r["valid"] for r in await fetch(settings, "SELECT valid FROM response")} in ({1}, {True})


async def test_school_operators_and_forged_posts_cannot_decide(console, demo_links, settings):
    survey = await stuffed_round(settings, demo_links)
    phone = ",".join(map(str, await ids(settings, "burst,duplicate_device")))
    await login(console, "op01")
    assert (await console.get(f"/console/rounds/{survey}/review")).status_code == 403
    refused = await post_form(
        console,
        f"/console/rounds/{survey}/review",
        {"sender": phone, "action": "exclude", "exclude_reason": "other", "note": "学校想删掉差评"},
    )
    assert refused.status_code == 403
    await login(console, "chief")
    forged = await console.post(
        f"/console/rounds/{survey}/review",
        data={"sender": phone, "action": "exclude", "exclude_reason": "other", "note": "没有安全令牌"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    assert await fetch(settings, "SELECT * FROM review_decision") == []


async def test_one_answer_is_decided_from_its_own_address_and_undone(console, demo_links, settings):
    survey = await stuffed_round(settings, demo_links)
    await login(console, "chief")
    [answer, *_] = await ids(settings, "straight_liner")
    done = await post_form(
        console,
        f"/console/rounds/{survey}/review/{answer}",
        {"action": "exclude", "reason": "careless", "note": "全部选不满意且用时不足 5 秒"},
    )
    assert done.status_code == 303
    row = (await fetch(settings, "SELECT valid, exclusion FROM response WHERE id = ?", answer))[0]
    assert row["valid"] in (0, False) and row["exclusion"] == "careless"
    page = (await console.get(done.headers["location"])).text
    assert f'id="r{answer}" class="status-excluded"' in page and "已剔除" in page
    await post_form(
        console, f"/console/rounds/{survey}/review/{answer}", {"action": "reinstate", "note": "经核实为本人作答"}
    )
    row = (await fetch(settings, "SELECT valid, exclusion, kept FROM response WHERE id = ?", answer))[0]
    assert row["valid"] in (1, True) and row["exclusion"] == "" and row["kept"] == ""
    log = (await console.get(f"/console/rounds/{survey}/audit")).text
    assert log.index("全部选不满意且用时不足 5 秒") < log.index("经核实为本人作答")
    assert "chief" in log and "敷衍作答" in log and "撤销决定" in log and "恢复待审核" in log
