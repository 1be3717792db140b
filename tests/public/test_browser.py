"""A parent on a 360×740 phone answers in a real browser (Debian's Chromium driven by Playwright)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from support.browser import ARTIFACTS
from support.helpers import demo_server

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 10; V2001A) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
    "Chrome/86.0.4240.99 XWEB/4317 MMWEBSDK/20220903 Mobile Safari/537.36 MicroMessenger/8.0.28.2240(0x28001C35)"
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    directory = tmp_path_factory.mktemp("browser")
    with demo_server(directory) as (port, printed):
        urls = {line.split(": ", 1)[0]: line.split(": ", 1)[1] for line in printed if ": http" in line}
        yield directory / "demo.db", urls


def stored(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT respondent_group, recognition FROM response ORDER BY id").fetchall()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_parent_answers_on_a_phone(browser, demo, javascript):
    db, urls = demo
    before = len(stored(db))
    context = browser.new_context(**PHONE, user_agent=WECHAT_UA, java_script_enabled=javascript)
    page = context.new_page()
    page.goto(urls["乌恰县第一小学 · 家长"])
    assert page.get_by_text("乌恰县第一小学 · 家长").is_visible()
    # Nothing is wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "answer-page-phone.png"))

    fieldsets = page.locator("fieldset:has(input[type=radio])")
    count = fieldsets.count()
    assert count >= 8
    for index in range(count):
        # Tap the words, not the tiny circle: the label is the target.
        option = fieldsets.nth(index).get_by_text("比较满意", exact=True)
        box = option.bounding_box()
        assert box["height"] >= 40
        option.tap()
    page.get_by_label("请填写（最多 500 字）").fill("希望学校多开展课外活动")
    page.get_by_role("button", name="提交问卷").tap()
    page.wait_for_url("**/thanks?r=*")
    assert page.get_by_text("提交成功，感谢您的参与！").is_visible()
    page.screenshot(path=str(ARTIFACTS / f"thanks-phone-{'js' if javascript else 'nojs'}.png"))
    rows = stored(db)
    assert len(rows) == before + 1 and rows[-1] == ("parent", 1.0)
    context.close()


def test_a_missing_answer_is_marked_on_the_phone(browser, demo):
    db, urls = demo
    before = len(stored(db))
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(urls["全县 · 其他群众"])  # the social questionnaire, without an access code
    fieldsets = page.locator("fieldset:has(input[type=radio])")
    for index in range(1, fieldsets.count()):
        fieldsets.nth(index).get_by_text("满意", exact=True).tap()
    # Skip the browser's own check, as an old WeChat browser would, to see the server's answer.
    page.locator("form").evaluate("form => { form.noValidate = true; }")
    page.get_by_role("button", name="提交问卷").tap()
    page.locator("#alert").wait_for()
    assert page.get_by_role("alert").get_by_text("还有 1 处需要填写或修改").is_visible()
    first = fieldsets.nth(0)
    assert first.get_by_text("请回答此题。").is_visible()
    # The answers already given are still there.
    assert fieldsets.nth(1).locator("input[value=satisfied]").is_checked()
    page.screenshot(path=str(ARTIFACTS / "answer-page-error-phone.png"), full_page=False)
    assert len(stored(db)) == before
    context.close()
