"""与上一轮对比 in a real browser (Debian's Chromium driven by Playwright) on the demo county as
`survey-service demo` makes it: the open round is compared with last year's closed round; the results
page and the printed report show the verdict, the table and the trend chart (inline SVG, no script);
on the round page the bureau changes the 对比轮次 and the change log says so. Screenshots go to
test-artifacts/."""

from __future__ import annotations

import re
import sqlite3

import pytest

from support.browser import ARTIFACTS, LAPTOP, log_in, shot
from support.helpers import demo_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("comparison-browser")
    with demo_server(directory, answers=True) as (port, _):
        with sqlite3.connect(directory / "demo.db") as db:
            (previous,) = db.execute("SELECT previous_round FROM survey WHERE id = 1").fetchone()
        db.close()
        yield f"http://127.0.0.1:{port}", previous


def test_the_results_page_shows_the_year_over_year_table_and_trend(browser, server):
    base, previous = server
    page = browser.new_context(**LAPTOP).new_page()
    log_in(page, base, "admin", "demo-admin-pass")
    page.goto(f"{base}/console/rounds/1/results")
    section = page.locator("section.comparison")
    assert section.get_by_role("heading", name="与上一轮对比").is_visible()
    assert "（演示·上一年度）" in section.inner_text() and "显著提高" in section.locator(".verdict").inner_text()
    # The trend: one point per round of the county, this round's filled and labelled.
    chart = section.locator("svg.trend")
    assert chart.locator("circle").count() == 2
    drawn = chart.text_content()
    assert "（本轮）" in drawn and "（对比轮次）" in drawn and "目标 85%" in drawn
    tables = section.locator("table")
    assert tables.count() == 4  # 总体与分群体, 分题目, 分学校, 历年趋势
    rows = tables.first.locator("tbody tr")
    assert rows.count() == 7  # the county and its six groups
    county = rows.first.locator("td").all_inner_texts()
    assert county[-1] == "显著提高" and float(rows.first.locator("td").nth(2).get_attribute("data-value")) > 0
    assert tables.nth(1).locator("tbody tr").count() >= 30 and tables.nth(2).locator("tbody tr").count() == 20
    verdicts = set(section.locator("tbody td:last-child").all_inner_texts())
    assert {"显著提高", "无显著变化", "显著下降"} <= verdicts
    # The page never shows an internal id of an item or a school.
    assert not re.search(r"\b(homework_burden|teacher_pay|WQ\d\d)\b", section.inner_text())
    section.scroll_into_view_if_needed()
    shot(page, "comparison-results.png")
    ARTIFACTS.mkdir(exist_ok=True)
    section.screenshot(path=str(ARTIFACTS / "comparison-section.png"))

    page.goto(f"{base}/console/rounds/1/report")
    assert page.get_by_role("heading", name="与上一轮对比").is_visible()
    page.emulate_media(media="print")
    assert page.locator("section.comparison svg.trend").is_visible()


def test_the_bureau_chooses_the_round_to_compare_with(browser, server):
    base, previous = server
    page = browser.new_context(**LAPTOP).new_page()
    log_in(page, base, "admin", "demo-admin-pass")
    page.goto(f"{base}/console/rounds/1")
    card = page.locator("#previous")
    assert card.locator("select").input_value() == str(previous)
    card.get_by_label("对比轮次").select_option("")
    card.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r"/console/rounds/1#previous$"))
    assert "尚未选择对比轮次" in page.locator("#previous").inner_text()
    assert "对比轮次改为：不再与其他轮次对比" in page.locator("#changes").inner_text()
    page.goto(f"{base}/console/rounds/1/results")
    assert "尚未选择对比轮次" in page.locator("#comparison").locator("..").inner_text()

    page.goto(f"{base}/console/rounds/1")
    page.locator("#previous").get_by_label("对比轮次").select_option(str(previous))
    page.locator("#previous").get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r"#previous$"))
    assert f"对比轮次改为：与第 {previous} 轮" in page.locator("#changes").inner_text()
    shot(page, "comparison-round-page.png")
    # Last year's round has no earlier round of the county to be compared with.
    page.goto(f"{base}/console/rounds/{previous}")
    assert "还没有比本轮更早的调查轮次" in page.locator("#previous").inner_text()
