"""Paper questionnaires in the console (issue 15): numbered forms issued and printed per school ×
group, each keyed in twice; two entries alike are stored at once, two that differ wait for a third
look, and only then does the form count: the round's n (its tallies) rises only for settled forms, a
form counts once, and the stored answer is chained with the source 纸质问卷. A school's operator works
on its own school only; forged and mistyped input gets a Chinese message and changes nothing. On
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
import secrets

import msgspec
import pytest

from support.console_session import csrf_of, login, post_form
from support.helpers import fetch
from support.verify_command import verify
from survey_service.core.resources import questionnaires_dir
from survey_service.questionnaire import load_questionnaires

SOCIAL = load_questionnaires(questionnaires_dir())["social"]
OPTION_ITEMS = [item for item in SOCIAL.items if item.kind.value != "text"]


def keyed(keys: str, suggestion: str = "") -> dict[str, str]:
    """The entry form's fields: one key per option item, in order (1 满意 … 5 不了解, 0 blank)."""
    assert len(keys) == len(OPTION_ITEMS)
    fields = {item.id: key for item, key in zip(OPTION_ITEMS, keys)}
    fields["suggestions"] = suggestion
    return fields


ALL_SATISFIED = "1" * len(OPTION_ITEMS)


async def paper_state(settings, survey: int) -> dict:
    """What the database holds: the paper entries, the stored paper answers and the round's n."""
    entries = await fetch(settings, "SELECT pass_number, actor FROM paper_entry ORDER BY id")
    answers = await fetch(settings, "SELECT nonce, answers, source FROM response WHERE source = 'paper' ORDER BY id")
    [tally] = await fetch(settings, "SELECT COALESCE(SUM(n), 0) AS n FROM response_tally WHERE survey = ?", survey)
    return {"entries": len(entries), "answers": answers, "n": int(tally["n"])}


async def key_in(console, base: str, fields: dict, entry_key: str | None = None):
    """Post one entry as the entry page does: with its one-time key (a fresh one unless given)."""
    return await post_form(console, base, {"entry_key": entry_key or secrets.token_hex(16), **fields})


async def issue(console, base: str, count: int) -> str:
    posted = await post_form(console, f"{base}/print", {"count": str(count)})
    assert posted.status_code == 303, posted.text
    return posted.headers["location"]


@pytest.fixture
def survey(demo_links) -> int:
    return demo_links[0].survey


async def test_double_entry_counts_only_settled_forms_and_each_number_once(console, settings, survey):
    base = f"/console/rounds/{survey}/schools/WQ01/paper/parent"
    await login(console, "op01")
    printed = await issue(console, base, 3)
    page = await console.get(printed)
    assert page.status_code == 200
    for serial in ("0001", "0002", "0003"):
        assert f"WQ01-家长-{serial}" in page.text
    before = await paper_state(settings, survey)
    assert before["answers"] == [] and before["entries"] == 0

    # Form 1, first pass (the operator): waits for the second; nothing counts yet.
    first = await key_in(console, base, {"number": "WQ01-家长-0001", **keyed(ALL_SATISFIED, "多开展家长会")})
    assert first.status_code == 303
    shown = await console.get(first.headers["location"])
    assert "WQ01-家长-0001：已录入一遍，待第二遍" in shown.text
    assert (await paper_state(settings, survey))["n"] == before["n"]

    # Second pass by the bureau, the serial alone, full-width digits: alike, so it counts, once.
    await login(console, "chief")
    second = await key_in(console, base, {"number": "１", **keyed(ALL_SATISFIED, "多开展家长会")})
    assert second.status_code == 303
    assert "两遍一致，已计入" in (await console.get(second.headers["location"])).text
    after_one = await paper_state(settings, survey)
    assert after_one["n"] == before["n"] + 1
    [stored] = after_one["answers"]
    assert stored["source"] == "paper" and stored["nonce"].startswith(f"paper:{survey}:")
    assert msgspec.json.decode(stored["answers"]) | {} == {
        **{item.id: "satisfied" for item in OPTION_ITEMS},
        "suggestions": "多开展家长会",
    }

    # A third entry of the same number is refused: the same form cannot count twice.
    third = await key_in(console, base, {"number": "0001", **keyed(ALL_SATISFIED)})
    assert third.status_code == 409
    assert "编号 WQ01-家长-0001 已录入两遍（已计入结果），不能再次录入" in third.text
    assert (await paper_state(settings, survey))["n"] == after_one["n"]

    # Form 2: the passes differ on items 3 and 5 (and item 7 left blank in both): it waits.
    one = ALL_SATISFIED[:6] + "0" + ALL_SATISFIED[7:]
    two = one[:2] + "2" + one[3:4] + "4" + one[5:]
    await key_in(console, base, {"number": "2", **keyed(one)})
    await login(console, "op01")
    mismatch = await key_in(console, base, {"number": "2", **keyed(two)})
    assert "两遍不一致，待核对" in (await console.get(mismatch.headers["location"])).text
    assert (await paper_state(settings, survey))["n"] == after_one["n"]

    check = await console.get(f"{base}/check")
    assert check.status_code == 200
    rows = re.findall(r'<tr class="differs">(.*?)</tr>', check.text, re.S)
    assert len(rows) == 2
    assert "<mark>1 满意</mark>" in rows[0] and "<mark>2 比较满意</mark>" in rows[0]
    assert "<mark>1 满意</mark>" in rows[1] and "<mark>4 不满意</mark>" in rows[1]
    assert "第一遍：chief" in check.text and "第二遍：op01" in check.text

    # The third look leaves an item unchosen: refused, nothing stored.
    item3, item5 = OPTION_ITEMS[2].id, OPTION_ITEMS[4].id
    half = await post_form(console, f"{base}/check/2", {item3: "2"})
    assert half.status_code == 422 and "第 5 题未录入" in half.text
    assert (await paper_state(settings, survey))["n"] == after_one["n"]

    settled = await post_form(console, f"{base}/check/2", {item3: "2", item5: "1"})
    assert settled.status_code == 303
    assert "编号 WQ01-家长-0002 已核对，计入结果" in (await console.get(settled.headers["location"])).text
    done = await paper_state(settings, survey)
    assert done["n"] == after_one["n"] + 1
    answer = msgspec.json.decode(done["answers"][1]["answers"])
    assert answer[item3] == "fairly_satisfied" and answer[item5] == "satisfied"
    assert OPTION_ITEMS[6].id not in answer  # left blank on the form: not answered
    # Once settled, the form is gone from the list and cannot be settled again.
    assert "没有待核对的问卷" in (await console.get(f"{base}/check")).text
    again = await post_form(console, f"{base}/check/2", {item3: "1", item5: "1"})
    assert again.status_code == 409 and (await paper_state(settings, survey))["n"] == done["n"]

    # Form 3 entered once only: never counts. The audit shows who entered what.
    await key_in(console, base, {"number": "3", **keyed(ALL_SATISFIED)})
    final = await paper_state(settings, survey)
    assert final["n"] == done["n"] and len(final["answers"]) == 2
    audit = await fetch(settings, "SELECT pass_number, actor FROM paper_entry ORDER BY id")
    assert [(row["pass_number"], row["actor"]) for row in audit] == [
        (1, "op01"),
        (2, "chief"),
        (1, "chief"),
        (2, "op01"),
        (3, "op01"),
        (1, "op01"),
    ]
    entry_page = await console.get(base)
    assert "最近录入" in entry_page.text and "核对" in entry_page.text
    # The results' validity table names the source of the counted answers.
    await login(console, "chief")
    results = await console.get(f"/console/rounds/{survey}/results")
    assert results.status_code == 200 and "纸质问卷" in results.text


async def test_the_stored_paper_answers_are_chained_and_verified(console, settings, survey):
    base = f"/console/rounds/{survey}/schools/WQ01/paper/student"
    await login(console, "op01")
    await issue(console, base, 1)
    student = load_questionnaires(questionnaires_dir())["student"]
    fields = {item.id: "2" for item in student.items if item.kind.value != "text"}
    for account in ("op01", "chief"):
        await login(console, account)
        assert (await key_in(console, base, {"number": "1", **fields})).status_code == 303
    [row] = await fetch(settings, "SELECT chain_hash, content_hash FROM response WHERE source = 'paper'")
    assert row["chain_hash"] and row["content_hash"]
    checked = await asyncio.to_thread(verify, settings)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "1 份答卷" in checked.stdout


async def test_an_operator_enters_only_its_own_schools_students_and_parents(console, settings, survey):
    await login(console, "op01")
    fields = {"number": "1", **keyed(ALL_SATISFIED)}
    for path in (
        f"/console/rounds/{survey}/schools/WQ02/paper",
        f"/console/rounds/{survey}/schools/WQ02/paper/parent",
        f"/console/rounds/{survey}/schools/WQ02/paper/parent/check",
    ):
        assert (await console.get(path)).status_code == 403, path
    for path in (
        f"/console/rounds/{survey}/schools/WQ02/paper/parent",
        f"/console/rounds/{survey}/schools/WQ02/paper/parent/print",
    ):
        refused = await post_form(console, path, fields | {"count": "5"})
        assert refused.status_code == 403, path
    # Its own teachers' and principals' forms are not an operator's to key in.
    teachers = await console.get(f"/console/rounds/{survey}/schools/WQ01/paper/teacher")
    assert teachers.status_code == 403 and "教师问卷由县教育局录入" in teachers.text
    assert (await console.get(f"/console/rounds/{survey}/schools/WQ01/paper/principal")).status_code == 403
    index = await console.get(f"/console/rounds/{survey}/schools/WQ01/paper")
    assert "录入家长问卷" in index.text and "录入学生问卷" in index.text and "录入教师问卷" not in index.text
    assert await fetch(settings, "SELECT id FROM paper_batch") == []
    # The bureau enters any school's teachers' forms.
    await login(console, "chief")
    assert (await console.get(f"/console/rounds/{survey}/schools/WQ02/paper/teacher")).status_code == 200


async def test_forged_or_mistyped_entries_get_a_chinese_message_and_change_nothing(console, settings, survey):
    base = f"/console/rounds/{survey}/schools/WQ01/paper/parent"
    await login(console, "op01")
    await issue(console, base, 2)
    cases = [
        ({"number": "ABC", **keyed(ALL_SATISFIED)}, 422, "问卷编号“ABC”格式不对"),
        ({"number": "WQ02-家长-0001", **keyed(ALL_SATISFIED)}, 422, "不是本页（WQ01 · 家长）的问卷"),
        ({"number": "WQ01-学生-0001", **keyed(ALL_SATISFIED)}, 422, "不是本页（WQ01 · 家长）的问卷"),
        ({"number": "", **keyed(ALL_SATISFIED)}, 422, "请先输入问卷编号"),
        ({"number": "0099", **keyed(ALL_SATISFIED)}, 409, "编号 WQ01-家长-0099 尚未发放"),
        (
            {"number": "1", **keyed("6" + ALL_SATISFIED[1:])},
            422,
            "第 1 题只能录入 0 至 5（0 表示未作答），“6”不是本题的选项",
        ),
        ({"number": "1", **keyed("x" + ALL_SATISFIED[1:])}, 422, "“x”不是本题的选项"),
        (
            {"number": "1", **{k: v for k, v in keyed(ALL_SATISFIED).items() if k != OPTION_ITEMS[3].id}},
            422,
            "第 4 题未录入",
        ),
        ({"number": "1", **keyed(ALL_SATISFIED, "意见" * 300)}, 422, "内容过长"),
    ]
    for fields, status, words in cases:
        posted = await key_in(console, base, fields)
        assert posted.status_code == status, (fields["number"], posted.text[:300])
        assert words in posted.text, words
        assert "本份没有保存" in posted.text or status == 409
    # Without the CSRF token: refused before anything is read.
    forged = await console.post(base, data={"number": "1", **keyed(ALL_SATISFIED)}, follow_redirects=False)
    assert forged.status_code == 403 and "安全校验未通过" in forged.text
    forged_print = await console.post(
        f"{base}/print", data={"count": "5", "_csrf_token": "0" * 64}, follow_redirects=False
    )
    assert forged_print.status_code == 403
    for count in ("0", "-1", "501", "五"):
        assert (await post_form(console, f"{base}/print", {"count": count})).status_code == 400
    assert await fetch(settings, "SELECT id FROM paper_entry") == []
    assert await fetch(settings, "SELECT id FROM paper_form") == []
    assert len(await fetch(settings, "SELECT id FROM paper_batch")) == 1
    assert await fetch(settings, "SELECT id FROM response WHERE source = 'paper'") == []
    # The rejected page keeps what was keyed in and marks the item.
    kept = await key_in(console, base, {"number": "1", **keyed("7" + ALL_SATISFIED[1:])})
    assert 'value="1" checked' in kept.text and 'aria-invalid="true"' in kept.text
    assert csrf_of(console)


async def test_a_save_sent_twice_stores_one_entry_never_a_second_pass(console, settings, survey):
    base = f"/console/rounds/{survey}/schools/WQ01/paper/parent"
    await login(console, "op01")
    await issue(console, base, 1)
    page = await console.get(base)
    [entry_key] = re.findall(r'name="entry_key" value="([0-9a-f]{32})"', page.text)
    fields = {"number": "1", **keyed(ALL_SATISFIED)}
    for _ in range(2):  # a double click, or the back button and save again
        again = await key_in(console, base, fields, entry_key)
        assert again.status_code == 303
    assert "已录入一遍，待第二遍" in (await console.get(again.headers["location"])).text
    assert len(await fetch(settings, "SELECT id FROM paper_entry")) == 1
    assert (await paper_state(settings, survey))["answers"] == []
    # The same key with another number is refused; a missing or malformed key too: nothing stored.
    other = await key_in(console, base, {**fields, "number": "2"}, entry_key)
    assert other.status_code in (409, 422) and len(await fetch(settings, "SELECT id FROM paper_entry")) == 1
    for key in ("", "not-a-key", "A" * 32):
        refused = await post_form(console, base, {"entry_key": key, **fields})
        assert refused.status_code == 400 and "录入页面已过期或不完整" in refused.text
    assert len(await fetch(settings, "SELECT id FROM paper_entry")) == 1
    # The second pass from a fresh page is a real second entry.
    second = await key_in(console, base, fields)
    assert "两遍一致，已计入" in (await console.get(second.headers["location"])).text
    assert len((await paper_state(settings, survey))["answers"]) == 1
