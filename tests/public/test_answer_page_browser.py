"""The answer page on a 360×740 phone in a real browser (Debian's Chromium driven by Playwright): no
accidental repeats, errors and progress on a small screen, one request under 16 KB, and axe-core."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from support.browser import ARTIFACTS, PHONE
from support.helpers import demo_server

PAGE_BUDGET = 16 * 1024


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    directory = tmp_path_factory.mktemp("answer-page")
    with demo_server(directory) as (port, printed):
        urls = {line.split(": ", 1)[0]: line.split(": ", 1)[1] for line in printed if ": http" in line}
        yield directory / "demo.db", urls


def stored(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT COUNT(*) FROM response").fetchone()[0]


def shot(page, name: str, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=full_page)


def violations(page) -> list[str]:
    found = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in found]


def answer_all(page, option: str = "满意", skip: tuple[int, ...] = ()) -> None:
    fieldsets = page.locator("fieldset:has(input[type=radio])")
    for index in range(fieldsets.count()):
        if index not in skip:
            fieldsets.nth(index).get_by_text(option, exact=True).tap()


def in_view(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    return box is not None and -1 <= box["y"] and box["y"] + min(box["height"], 200) <= 740  # sub-pixel


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_phone_that_answered_sees_so_and_back_stores_nothing_more(browser, demo, javascript):
    db, urls = demo
    url = urls["乌恰县第一小学 · 家长"]
    context = browser.new_context(**PHONE, java_script_enabled=javascript)
    page = context.new_page()
    page.goto(url)
    stale = page.content()  # the form as a browser could keep it (bfcache), with its nonce
    before = stored(db)
    answer_all(page)
    page.get_by_role("button", name="提交问卷").tap()
    page.wait_for_url("**/thanks?r=*")
    assert page.get_by_text("提交成功，感谢您的参与！").is_visible()
    assert stored(db) == before + 1

    # Back: the page is fetched again (no-store) and says this phone answered, with the time.
    page.go_back()
    page.wait_for_load_state()
    if page.locator("form").count():  # a browser that restored the form after all: its nonce is spent
        page.get_by_role("button", name="提交问卷").tap()
        page.wait_for_url("**/thanks?repeat=1&r=*")
    else:
        assert page.get_by_role("heading", name="您已提交过本问卷，感谢您的参与").is_visible()
        assert page.get_by_text(re.compile(r"已于 \d{4}年\d{2}月\d{2}日 \d{2}:\d{2} 提交过本问卷")).is_visible()
    assert stored(db) == before + 1

    # Opening the link again from this phone: the same page, never a blank form.
    page.goto(url)
    assert page.get_by_role("heading", name="您已提交过本问卷，感谢您的参与").is_visible()
    assert page.locator("form").count() == 0
    shot(page, f"answer-page-already-submitted-{'js' if javascript else 'nojs'}.png")

    # The form as the browser kept it, sent again: nothing more stored, and the page says so.
    page.route(url + "?kept", lambda route: route.fulfill(body=stale, content_type="text/html; charset=utf-8"))
    page.goto(url + "?kept")
    answer_all(page, "比较满意")
    page.get_by_role("button", name="提交问卷").tap()
    page.wait_for_url("**/thanks?repeat=1&r=*")
    assert page.get_by_role("heading", name="您的答卷已经收到，本次没有再保存").is_visible()
    assert not page.get_by_text("提交成功").count()
    shot(page, f"thanks-repeat-{'js' if javascript else 'nojs'}.png")
    assert stored(db) == before + 1

    # 再填一份 is a deliberate choice; after it, back shows the "already submitted" page again.
    page.goto(url)
    with page.expect_navigation():
        page.get_by_role("link", name="为另一人再填一份").tap()
    assert page.get_by_text("这一份请由另一人填写").is_visible()
    answer_all(page, "基本满意")
    page.get_by_role("button", name="提交问卷").tap()
    page.wait_for_url("**/thanks?r=*")
    assert stored(db) == before + 2
    page.go_back()
    page.wait_for_load_state()
    assert page.locator("form").count() == 0 and page.get_by_text("您已提交过本问卷").count()
    assert stored(db) == before + 2
    context.close()


def test_the_thank_you_address_without_a_submission_claims_nothing(browser, demo):
    _, urls = demo
    url = urls["乌恰县第一小学 · 教师"]
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(url + "/thanks")
    assert not page.get_by_text("提交成功").count() and not page.get_by_text("已提交过").count()
    with page.expect_navigation():
        page.get_by_role("link", name="打开问卷").tap()
    assert page.url == url and page.get_by_role("button", name="提交问卷").is_visible()
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_refused_answer_lists_the_items_and_focuses_the_first(browser, demo, javascript):
    db, urls = demo
    before = stored(db)
    context = browser.new_context(**PHONE, java_script_enabled=javascript)
    page = context.new_page()
    page.goto(urls["全县 · 其他群众"])
    answer_all(page, skip=(2, 8))
    page.locator("form").evaluate("form => { form.noValidate = true; }")  # as an old browser would
    page.get_by_role("button", name="提交问卷").tap()
    page.locator("#alert").wait_for()
    links = page.locator("#alert a")
    assert links.all_inner_texts() == ["第 3 题：请回答此题。", "第 9 题：请回答此题。"]
    # The first problem has the focus and is on the screen (autofocus: no script needed).
    page.wait_for_function("document.activeElement.tagName == 'FIELDSET'")
    first = links.nth(0).get_attribute("href")
    assert page.evaluate("document.activeElement.id") == first[1:]
    assert in_view(page, first)
    shot(page, f"answer-page-422-focus-{'js' if javascript else 'nojs'}.png")
    # Each link takes the reader to its item, focused.
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, f"answer-page-422-banner-{'js' if javascript else 'nojs'}.png")
    second = links.nth(1).get_attribute("href")
    links.nth(1).tap()
    page.wait_for_function(f"document.activeElement.id == '{second[1:]}'")
    assert in_view(page, second)
    assert page.locator(second).get_by_text("请回答此题。").is_visible()
    assert stored(db) == before
    context.close()


def progress_text(page) -> str:
    """The progress line as Chromium lays it out, its CSS counter included (innerText and the
    accessibility tree leave generated content out): the layout tree's texts, from DevTools."""
    session = page.context.new_cdp_session(page)
    snapshot = session.send("DOMSnapshot.captureSnapshot", {"computedStyles": []})
    session.detach()
    strings = snapshot["strings"]
    texts = [strings[i] for i in snapshot["documents"][0]["layout"]["text"] if i >= 0]
    start = next(i for i, text in enumerate(texts) if text.startswith("已答"))
    end = next(i for i in range(start, len(texts)) if "/" in texts[i])
    return "".join(texts[start : end + 1])


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_progress_shows_how_many_are_answered(browser, demo, javascript):
    _, urls = demo
    context = browser.new_context(**PHONE, java_script_enabled=javascript)
    page = context.new_page()
    page.goto(urls["乌恰县第一小学 · 家长"])
    total = page.locator("fieldset:has(input[type=radio])").count()
    read = (lambda: page.locator("#prog").inner_text()) if javascript else (lambda: progress_text(page))
    assert re.sub(r"\s+", " ", read()) == f"已答 0 / {total}"
    answer_all(page, skip=tuple(range(7, total)))
    assert re.sub(r"\s+", " ", read()) == f"已答 7 / {total}"
    # It stays on the screen while the reader scrolls (sticky at the bottom).
    assert in_view(page, "#prog")
    if javascript:
        width = page.locator("#prog i").evaluate(
            "e => e.getBoundingClientRect().width / e.parentNode.getBoundingClientRect().width"
        )
        assert abs(width - 7 / total) < 0.01
    shot(page, f"answer-page-progress-{'js' if javascript else 'nojs'}.png")
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_browsers_required_bubble_leaves_the_question_on_screen(browser, demo, javascript):
    """Submitting with an item unanswered: the browser scrolls to its first radio and shows its bubble
    below it; the question's text stays on the screen above (scroll-margin; with script, the item is
    scrolled to the top first)."""
    _, urls = demo
    context = browser.new_context(**PHONE, java_script_enabled=javascript)
    page = context.new_page()
    page.goto(urls["乌恰县第一小学 · 家长"])
    answer_all(page, skip=(3,))
    page.get_by_role("button", name="提交问卷").tap()
    page.wait_for_timeout(300)
    item = page.locator("fieldset:has(input[type=radio])").nth(3)
    legend, radio = item.locator("legend").bounding_box(), item.locator("input").first.bounding_box()
    assert 0 <= legend["y"] < radio["y"] and radio["y"] + radio["height"] + 60 < 740
    assert page.evaluate("document.activeElement.type") == "radio"
    context.close()


def test_chosen_cards_show_without_has_and_their_borders_contrast(browser, demo):
    _, urls = demo
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(urls["乌恰县第一小学 · 家长"])
    assert ":has(" not in page.locator("style").inner_text()
    option = page.locator("fieldset:has(input[type=radio])").nth(0).locator("label").nth(1)
    card = option.locator("i")

    def colours() -> tuple[str, str]:
        return card.evaluate("e => [getComputedStyle(e).borderTopColor, getComputedStyle(e).backgroundColor]")

    unchosen = colours()
    option.tap()
    chosen = colours()
    background = option.evaluate("e => getComputedStyle(e.closest('fieldset')).backgroundColor")
    assert chosen != unchosen and chosen[1] == "rgb(232, 240, 254)"
    assert ratio(unchosen[0], background) >= 3 and ratio(chosen[0], background) >= 3
    assert ratio(chosen[0], chosen[1]) >= 3
    context.close()


def ratio(one: str, other: str) -> float:
    """WCAG 2 contrast ratio of two rgb(…) colours."""

    def luminance(colour: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", colour)[:3]]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_every_answer_page_is_one_request_within_16_kb(browser, demo):
    _, urls = demo
    sizes = {}
    for name, url in urls.items():
        if "/s/" not in url:
            continue
        context = browser.new_context(**PHONE)
        page = context.new_page()
        requests = []
        page.on("request", lambda request, requests=requests: requests.append(request.url))
        response = page.goto(url)
        page.wait_for_load_state("networkidle")
        sizes[name] = len(response.body())
        assert requests == [url], (name, requests)
        context.close()
    assert sizes and max(sizes.values()) <= PAGE_BUDGET, sizes


def test_the_answer_pages_have_no_axe_violations(browser, demo):
    _, urls = demo
    context = browser.new_context(**PHONE)
    page = context.new_page()
    url = urls["乌恰县实验中学 · 家长"]
    found = {}
    page.goto(url)
    found["form"] = violations(page)
    answer_all(page, skip=(1,))
    page.locator("form").evaluate("form => { form.noValidate = true; }")
    page.get_by_role("button", name="提交问卷").tap()
    page.locator("#alert").wait_for()
    found["422"] = violations(page)
    answer_all(page)
    page.get_by_role("button", name="提交问卷").tap()
    page.wait_for_url("**/thanks?r=*")
    found["thanks"] = violations(page)
    page.goto(url)
    assert page.get_by_text("您已提交过本问卷").count()
    found["already submitted"] = violations(page)
    with page.expect_navigation():
        page.get_by_role("link", name="为另一人再填一份").tap()
    found["again"] = violations(page)
    other = browser.new_context(**PHONE).new_page()
    other.goto(url + "/thanks")
    found["thanks without a receipt"] = violations(other)
    other.context.close()
    context.close()
    assert found == {name: [] for name in found}
