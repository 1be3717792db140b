"""A parent scans the code, answers on a phone, and is thanked; the answer is in the database."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from support.helpers import answer, fetch, filled_form, link_for, nonce_of, radio_items, token_of
from survey_service.respond.answers import NOT_AN_OPTION
from survey_service.respond.nonce import RECEIPT_MAX_AGE, check_receipt, issue_receipt


@pytest.fixture
def stored_responses(settings):
    async def read() -> list[dict]:
        return await fetch(settings, "SELECT * FROM response ORDER BY id")

    return read


async def set_window(settings, survey_id: int, opens_at: datetime, closes_at: datetime) -> None:
    await fetch(settings, "UPDATE survey SET opens_at = ?, closes_at = ? WHERE id = ?", opens_at, closes_at, survey_id)


async def test_answer_page_names_school_and_group_and_is_small(client, demo_links):
    link = link_for(demo_links, "parent")
    page = await client.get(f"/s/{token_of(link)}")
    assert page.status_code == 200
    html = page.text
    assert "乌恰县第一小学" in html and "家长" in html
    assert "社会卷" in html
    assert len(page.content) <= 16 * 1024
    # No external assets: no scripts, stylesheets, images or fonts from elsewhere; the one script is
    # inline (allowed by its hash: tests/public/test_security.py).
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert html.count("<script") == 1 and "<script>" in html and " src=" not in html
    # Every option is a radio inside its label; every item is a fieldset with a legend.
    assert html.count("<fieldset") == html.count("<legend") == len(radio_items(html)) + 1
    assert re.search(r'<label><input type="radio"', html)
    assert 'name="viewport" content="width=device-width' in html


async def test_a_complete_answer_is_stored_after_a_303_to_the_thanks_page(client, demo_links, stored_responses):
    link = link_for(demo_links, "parent")
    html = (await client.get(f"/s/{token_of(link)}")).text
    form = filled_form(html, "fairly_satisfied", school_conduct="dissatisfied", teacher_quality="unknown")
    form["suggestions"] = "希望增加体育活动"
    posted = await client.post(f"/s/{token_of(link)}", data=form, follow_redirects=False)
    assert posted.status_code == 303
    assert posted.headers["location"].startswith(f"/s/{token_of(link)}/thanks?r=")
    thanks = await client.get(posted.headers["location"])
    assert thanks.status_code == 200 and "提交成功" in thanks.text

    [row] = await stored_responses()
    assert row["respondent_group"] == "parent"
    assert row["questionnaire_id"] == "social"
    rated = len(radio_items(html))
    # One 不满意, one 不了解 (left out): y = (rated - 2) / (rated - 1)
    assert abs(row["recognition"] - (rated - 2) / (rated - 1)) < 1e-12
    answers = json.loads(row["answers"])
    assert answers["suggestions"] == "希望增加体育活动"
    assert answers["teacher_quality"] == "unknown"
    assert row["seconds_taken"] is not None and row["seconds_taken"] >= 0
    # One character per item: 比较满意 is option 1, 不满意 3, 不了解 4; the text item "t".
    order = [*radio_items(html), "suggestions"]
    expected = {item: "1" for item in order} | {"school_conduct": "3", "teacher_quality": "4", "suggestions": "t"}
    assert row["choices"] == "".join(expected[item] for item in order)


async def test_a_double_clicked_submit_stores_one_response(client, demo_links, stored_responses):
    link = link_for(demo_links, "student")
    html = (await client.get(f"/s/{token_of(link)}")).text
    form = filled_form(html)
    first = await client.post(f"/s/{token_of(link)}", data=form, follow_redirects=False)
    second = await client.post(f"/s/{token_of(link)}", data=form, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert "/thanks?repeat=1&r=" in second.headers["location"]
    repeat = await client.get(second.headers["location"])
    assert "重复提交" in repeat.text and "没有再保存" in repeat.text and "提交成功" not in repeat.text
    assert len(await stored_responses()) == 1


async def test_missing_and_invalid_answers_come_back_marked_with_answers_kept(client, demo_links, stored_responses):
    link = link_for(demo_links, "teacher")
    html = (await client.get(f"/s/{token_of(link)}")).text
    items = radio_items(html)
    form = filled_form(html)
    del form[items[2]]
    form[items[4]] = "excellent"  # not an option of the scale
    form[items[0]] = "basically_satisfied"
    posted = await client.post(f"/s/{token_of(link)}", data=form, follow_redirects=False)
    assert posted.status_code == 422
    page = posted.text
    assert "还有 2 处需要填写或修改" in page
    assert re.search(rf'id="e-{items[2]}">请回答此题', page)
    assert re.search(rf'id="e-{items[4]}">所选答案不是本题的选项', page)
    # What was given is still checked, and the same form (nonce) goes back.
    assert re.search(rf'name="{items[0]}" value="basically_satisfied" checked', page)
    assert re.search(rf'name="{items[1]}" value="satisfied" checked', page)
    assert nonce_of(page) == form["_nonce"]
    assert await stored_responses() == []


async def test_unknown_items_and_overlong_text_are_refused(client, demo_links, stored_responses):
    link = link_for(demo_links, "parent")
    token = token_of(link)
    html = (await client.get(f"/s/{token}")).text
    posted = await client.post(f"/s/{token}", data=filled_form(html, favourite_colour="blue"))
    assert posted.status_code == 422 and "问卷中没有这道题" in posted.text
    posted = await client.post(f"/s/{token}", data=filled_form(html, suggestions="很" * 501))
    assert posted.status_code == 422 and "最多 500 字" in posted.text
    assert await stored_responses() == []


async def test_unknown_token_gets_a_friendly_404(client):
    page = await client.get("/s/not-a-real-token")
    assert page.status_code == 404
    assert "找不到这份问卷" in page.text and "Traceback" not in page.text
    posted = await client.post("/s/not-a-real-token", data={"_nonce": "x"})
    assert posted.status_code == 404


async def test_forged_or_missing_nonce_is_refused(client, demo_links, stored_responses):
    link = link_for(demo_links, "parent")
    html = (await client.get(f"/s/{token_of(link)}")).text
    for nonce in ["", "abc", nonce_of(html)[:-2] + "xx"]:
        posted = await client.post(f"/s/{token_of(link)}", data=filled_form(html, _nonce=nonce))
        assert posted.status_code == 400
        assert "请重新打开链接填写" in posted.text
    # A nonce issued for another link does not open this one.
    other = link_for(demo_links, "parent", "WQ02")
    other_html = (await client.get(f"/s/{token_of(other)}")).text
    posted = await client.post(f"/s/{token_of(link)}", data=filled_form(html, _nonce=nonce_of(other_html)))
    assert posted.status_code == 400
    assert await stored_responses() == []


async def test_wrong_content_type_and_oversized_body(client, demo_links, stored_responses):
    token = token_of(link_for(demo_links, "parent"))
    posted = await client.post(f"/s/{token}", content=b"{}", headers={"content-type": "application/json"})
    assert posted.status_code == 415 and "不支持的提交格式" in posted.text or "请通过问卷页面提交" in posted.text
    posted = await client.post(
        f"/s/{token}",
        content=b"a=" + b"x" * 70_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert posted.status_code == 413
    posted = await client.post(
        f"/s/{token}", content=b"a=%ff%fe", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert posted.status_code == 400
    assert await stored_responses() == []


async def test_the_answer_post_ends_alike_on_either_of_its_two_paths(client, demo_links, stored_responses):
    """An urlencoded post (what the form sends) is answered before routing (public/answer_post.py);
    a multipart one, or one to the path with a trailing slash, by the route handler. Each way, a
    wrong answer gets the form back with its item marked, a good one is stored and redirected, and
    the same form sent again stores nothing more."""
    link = link_for(demo_links, "parent")
    token = token_of(link)
    ways = {
        "urlencoded": lambda form: client.post(f"/s/{token}", data=form, follow_redirects=False),
        "multipart": lambda form: client.post(
            f"/s/{token}", files={key: (None, value) for key, value in form.items()}, follow_redirects=False
        ),
        "trailing slash": lambda form: client.post(f"/s/{token}/", data=form, follow_redirects=False),
    }
    for count, (way, post) in enumerate(ways.items(), start=1):
        # This client is one phone: after its first answer, the link offers 再填一份 (`again`).
        html = (await client.get(f"/s/{token}?again={count - 1}")).text
        form = filled_form(html)
        wrong = await post(form | {radio_items(html)[0]: "no-such-option"})
        assert wrong.status_code == 422 and NOT_AN_OPTION in wrong.text, way
        assert f'name="_nonce" value="{form["_nonce"]}"' in wrong.text, way
        stored = await post(form)
        assert stored.status_code == 303 and stored.headers["location"].startswith(f"/s/{token}/thanks?r="), way
        again = await post(form)
        assert again.status_code == 303, way
        assert again.headers["location"].startswith(f"/s/{token}/thanks?repeat=1&r="), way
        assert len(await stored_responses()) == count, way


def test_the_app_sets_nothing_the_answer_posts_own_path_would_skip(settings):
    """The answer post and its page skip the app's middleware, guards and request hooks
    (public/answer_post.py, public/form_get.py):
    adding one must be a conscious choice, made here. Its error pages come from the app's exception
    handlers, all keyed by class."""
    from survey_service.app import create_app

    app = create_app(settings)
    assert not app.middleware and not app.guards
    assert app.before_request is None and app.after_request is None and app.after_response is None
    assert all(isinstance(key, type) for key in app.exception_handlers)


async def test_the_answer_posts_own_path_takes_only_the_hosts_the_router_routes(settings):
    """The answer post's own path leaves a Host header Litestar's router refuses (400) to the router,
    by a rule of its own (public/answer_post.py): the two agree, host by host."""
    from survey_service.app import create_app
    from survey_service.public.answer_post import is_valid_host

    app = create_app(settings)
    hosts = [b"survey.test", b"127.0.0.1:8000", b"[::1]:8000", b"user@host:80", b"a%20b", b"", b"x!$&'()*+,;=~_"]
    hosts += [b"bad host", b"a/b", b"a?b", b"a#b", b'a"b', b"a<b", b"a\\b", b"\xe9.test", b"a\tb", b"a\x7fb", b"x\n"]
    for host in hosts:
        statuses = []

        async def receive() -> dict:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict, statuses: list = statuses) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/healthz",
            "raw_path": b"/healthz",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", host)],
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        await app(scope, receive, send)
        assert statuses == [200 if is_valid_host(host.decode("latin-1")) else 400], host


async def test_a_round_not_open_or_closed_says_so_with_its_dates(client, demo_links, settings, stored_responses):
    link = link_for(demo_links, "parent")
    token = token_of(link)
    html = (await client.get(f"/s/{token}")).text
    now = datetime.now(UTC)
    await set_window(settings, link.survey, now + timedelta(days=2), now + timedelta(days=8))
    page = await client.get(f"/s/{token}")
    assert page.status_code == 403
    assert (
        "尚未开始" in page.text
        and (now + timedelta(days=2)).astimezone(timezone(timedelta(hours=8))).strftime("%Y年%m月%d日") in page.text
    )
    await set_window(settings, link.survey, now - timedelta(days=8), now - timedelta(days=1))
    page = await client.get(f"/s/{token}")
    assert page.status_code == 403 and "已于" in page.text and "结束" in page.text
    posted = await client.post(f"/s/{token}", data=filled_form(html))
    assert posted.status_code == 403
    assert await stored_responses() == []


async def test_when_answers_cannot_be_stored_the_phone_is_told_to_retry(demo_links, settings, tmp_path):
    """On SQLite the web workers hand answers to a writer process; while it is unreachable an answer
    gets a 503 in Chinese, and nothing is stored."""
    from litestar.testing import AsyncTestClient

    from survey_service.app import create_app

    app = create_app(settings.with_changes(writer_socket=str(tmp_path / "gone.sock")))
    async with AsyncTestClient(app=app, base_url="http://survey.test") as client:
        token = token_of(link_for(demo_links, "parent"))
        form = filled_form((await client.get(f"/s/{token}")).text, "fairly_satisfied")
        refused = await client.post(f"/s/{token}", data=form, follow_redirects=False)
        assert refused.status_code == 503 and "系统繁忙，您的答卷暂未保存" in refused.text
        assert refused.headers["retry-after"] == "30"
        api = await client.post(
            "/api/v1/responses",
            json={"token": token, "nonce": form["_nonce"], "answers": {k: v for k, v in form.items() if k != "_nonce"}},
        )
        assert api.status_code == 503 and api.json()["code"] == "storage_unavailable"
    assert (await fetch(settings, "SELECT COUNT(*) AS n FROM response"))[0]["n"] == 0


def no_store(response) -> bool:
    return response.headers.get("cache-control") == "no-store"


async def test_a_phone_that_answered_sees_when_and_answers_again_only_by_choice(
    client, demo_links, settings, stored_responses
):
    """Opening a link again from a phone that answered it shows "您已提交过本问卷" with the time, not a
    blank form; 再填一份 (a shared family phone) is an explicit choice, flagged as today, and once used
    its address shows that page again (back after submitting stores nothing more)."""
    token = token_of(link_for(demo_links, "parent"))
    first = await client.get(f"/s/{token}")
    assert first.status_code == 200 and no_store(first)
    assert (await client.post(f"/s/{token}", data=filled_form(first.text), follow_redirects=False)).status_code == 303
    revisit = await client.get(f"/s/{token}")
    assert revisit.status_code == 200 and no_store(revisit)
    assert "您已提交过本问卷，感谢您的参与" in revisit.text and 'name="_nonce"' not in revisit.text
    now = datetime.now(ZoneInfo(settings.timezone))
    shown = re.search(r"已于 (\d{4}年\d{2}月\d{2}日 \d{2}:\d{2}) 提交过", revisit.text).group(1)
    assert shown in {(now - timedelta(minutes=m)).strftime("%Y年%m月%d日 %H:%M") for m in (0, 1)}
    assert f'href="/s/{token}?again=1"' in revisit.text
    # The same phone on another link (another child's school) gets that link's form.
    assert 'name="_nonce"' in (await client.get(f"/s/{token_of(link_for(demo_links, 'parent', 'WQ02'))}")).text

    again = await client.get(f"/s/{token}?again=1")
    assert 'name="_nonce"' in again.text and "这一份请由另一人填写" in again.text and no_store(again)
    assert (await client.post(f"/s/{token}", data=filled_form(again.text), follow_redirects=False)).status_code == 303
    rows = await stored_responses()
    assert len(rows) == 2 and "duplicate_device" in rows[1]["flags"]
    # Back to the 再填一份 address after submitting: the "already submitted" page, now offering the third.
    back = await client.get(f"/s/{token}?again=1")
    assert "您已提交过本问卷" in back.text and 'name="_nonce"' not in back.text and "?again=2" in back.text
    # A stale copy of either form sent again stores nothing, and says so.
    repeat = await client.post(f"/s/{token}", data=filled_form(again.text))
    assert "您的答卷已经收到，本次没有再保存" in repeat.text and "提交成功" not in repeat.text
    assert len(await stored_responses()) == 2
    # Another phone (no device cookie) gets a blank form.
    client.cookies.clear()
    assert 'name="_nonce"' in (await client.get(f"/s/{token}")).text


async def test_the_thank_you_page_claims_success_only_with_its_receipt(client, demo_links, settings):
    token = token_of(link_for(demo_links, "parent"))
    other = token_of(link_for(demo_links, "teacher"))
    secret = settings.secret
    neutral = [
        "",
        "?r=6b000000.forged",
        f"?r={issue_receipt(secret, token, 'stored', now=time.time() - 2 * RECEIPT_MAX_AGE)}",  # too old
        f"?r={issue_receipt(secret, other, 'stored')}",  # another link's
        f"?r={issue_receipt('another-secret', token, 'stored')}",
        f"?repeat=1&r={issue_receipt(secret, token, 'stored')}",  # the kind is signed too
    ]
    for query in neutral:
        page = await client.get(f"/s/{token}/thanks{query}")
        assert page.status_code == 200, query
        assert "提交成功" not in page.text and "已经收到" not in page.text and "已提交过" not in page.text, query
        assert f'<a href="/s/{token}">打开问卷</a>' in page.text, query
    stored = await client.get(f"/s/{token}/thanks?r={issue_receipt(secret, token, 'stored')}")
    assert "提交成功，感谢您的参与！" in stored.text and no_store(stored)
    repeat = await client.get(f"/s/{token}/thanks?repeat=1&r={issue_receipt(secret, token, 'repeat')}")
    assert "您的答卷已经收到，本次没有再保存" in repeat.text and "提交成功" not in repeat.text
    # Without a receipt, a phone that did answer is told so, with the time.
    assert await answer(client, link_for(demo_links, "parent")) == 303
    page = await client.get(f"/s/{token}/thanks")
    assert "您已提交过本问卷" in page.text and "提交成功" not in page.text


async def test_a_refused_answer_lists_each_problem_by_number_with_a_link(client, demo_links, stored_responses):
    token = token_of(link_for(demo_links, "parent"))
    html = (await client.get(f"/s/{token}")).text
    items = radio_items(html)
    form = filled_form(html)
    del form[items[2]]
    form[items[8]] = "excellent"
    posted = await client.post(f"/s/{token}", data=form)
    assert posted.status_code == 422 and no_store(posted)
    page = posted.text
    banner = page[page.index('id="alert"') : page.index("<form")]
    assert re.findall(r'<a href="#(q-\w+)">(第 \d+ 题)：', banner) == [
        (f"q-{items[2]}", "第 3 题"),
        (f"q-{items[8]}", "第 9 题"),
    ]
    # Each link's target is its item, focusable; the first problem takes the focus (no script needed).
    assert f'<fieldset id="q-{items[2]}" class="bad" tabindex="-1" aria-describedby="e-{items[2]}" autofocus>' in page
    assert f'<fieldset id="q-{items[8]}" class="bad" tabindex="-1" aria-describedby="e-{items[8]}">' in page
    assert len(re.findall(r" autofocus[ >]", page)) == 1
    assert await stored_responses() == []


async def test_the_share_card_names_the_round_the_county_and_the_school(client, demo_links, settings):
    [survey] = await fetch(settings, "SELECT title, region FROM survey")
    token = token_of(link_for(demo_links, "parent"))
    for html in [(await client.get(f"/s/{token}")).text, (await client.get(f"/s/{token}/thanks")).text]:
        assert f'<meta property="og:title" content="{survey["title"]}">' in html
        [description] = re.findall(r'<meta property="og:description" content="([^"]+)">', html)
        assert survey["region"] in description and "乌恰县第一小学" in description and "家长" in description
        assert f'<meta name="description" content="{description}">' in html
        assert "og:image" not in html and not re.search(r'(src|href)="(https?:)?//', html)
    assert f"<title>{survey['title']}</title>" in (await client.get(f"/s/{token}")).text


def contrast(one: str, other: str) -> float:
    """The WCAG 2 contrast ratio of two #rrggbb colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def long_hex(colour: str) -> str:
    return "#" + "".join(c * 2 for c in colour[1:]) if len(colour) == 4 else colour


async def test_answer_cards_have_a_3_to_1_border_and_a_chosen_state_without_has(client, demo_links):
    """WCAG 1.4.11: an option card's border against the white question card, unchosen and chosen, and
    the chosen card's border against its own fill; the chosen state by input:checked + i, not :has()."""
    html = (await client.get(f"/s/{token_of(link_for(demo_links, 'parent'))}")).text
    css = re.search(r"<style>(.*?)</style>", html, flags=re.S).group(1)
    assert ":has(" not in css
    card = long_hex(re.search(r"\nfieldset\{[^}]*background:(#[0-9a-f]+)", css).group(1))
    border = re.search(r"\ninput\+i\{[^}]*border:1px solid (#[0-9a-f]{6})", css).group(1)
    chosen = re.search(r"\ninput:checked\+i\{([^}]*)\}", css).group(1)
    chosen_border = re.search(r"border-color:(#[0-9a-f]{6})", chosen).group(1)
    chosen_fill = re.search(r"background:(#[0-9a-f]{6})", chosen).group(1)
    assert card == "#ffffff"
    assert contrast(border, card) >= 3
    assert contrast(chosen_border, card) >= 3 and contrast(chosen_border, chosen_fill) >= 3
    assert chosen_border != border and chosen_fill != card
    assert re.search(r'<input type="radio" name="\w+" value="\w+"( required)?><i></i>', html)


def test_a_receipt_is_signed_per_link_and_kind_and_expires():
    receipt = issue_receipt("secret", "tok", "stored", now=1_000_000)
    assert check_receipt("secret", "tok", "stored", receipt, now=1_000_000 + RECEIPT_MAX_AGE)
    assert not check_receipt("secret", "tok", "stored", receipt, now=1_000_001 + RECEIPT_MAX_AGE)
    assert not check_receipt("secret", "tok", "repeat", receipt, now=1_000_000)
    assert not check_receipt("secret", "other", "stored", receipt, now=1_000_000)
    assert not check_receipt("secret", "tok", "stored", "", now=1_000_000)
    assert not check_receipt("secret", "tok", "stored", "zz." + receipt.split(".")[1], now=1_000_000)
