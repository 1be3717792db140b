"""迎检预判 in a real browser (Debian's Chromium through Playwright): the demo county's results page and
its printed report show the chance of passing the national check in words, the national sample assumed,
the 90%-safe rate and the assumptions; screenshots go to test-artifacts/."""

from __future__ import annotations

import re

import pytest

from support.browser import ARTIFACTS, LAPTOP, PHONE, log_in, shot
from support.helpers import demo_server

WORDS = ("很可能通过", "存在风险", "很可能不通过")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("national-check"), answers=True) as (port, _):
        yield f"http://127.0.0.1:{port}"


def _results(page, server: str) -> str:
    log_in(page, server, "admin", "demo-admin-pass")
    page.get_by_role("link", name="调查结果").first.click()
    page.wait_for_url("**/results")
    return page.url


def test_the_results_page_and_the_report_show_the_national_check(browser, server):
    context = browser.new_context(**LAPTOP)
    page = context.new_page()
    url = _results(page, server)
    panel = page.locator("section.national-check")
    assert panel.get_by_role("heading", name="迎检预判").is_visible()
    assert panel.locator(".verdict").inner_text() in WORDS
    big = panel.locator(".big").inner_text()
    assert re.search(r"通过概率 (> 99%|< 1%|\d{1,3}%)", big), big
    text = panel.inner_text()
    assert "90% 把握线" in text and re.search(r"全县真实认可度至少达到 \d+\.\d%", text)
    # The national sample assumed: 600 for the demo county (常住人口 72,000), 家长 at least half.
    rows = panel.locator("table.national-sample tbody tr")
    sample = {
        rows.nth(k).locator("th").inner_text(): int(rows.nth(k).locator("td").first.inner_text())
        for k in range(rows.count())
    }
    assert sum(sample.values()) == 600 and sample["家长"] >= 300
    assert "常住人口 72,000 人，国家样本 600 人" in text and "正态近似" in text
    assert panel.locator("ol.assumptions li").count() >= 6
    assert not re.search(r"[A-Za-z_]{4,}", text)  # Chinese only on the page
    # Right below the county's figure.
    assert page.evaluate(
        "document.querySelector('section.result-head').compareDocumentPosition("
        "document.querySelector('section.national-check')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    shot(page, "results-with-national-check.png")  # creates test-artifacts/
    panel.screenshot(path=str(ARTIFACTS / "results-national-check.png"))
    words = panel.locator(".verdict").inner_text()

    page.goto(url.replace("/results", "/report"))
    report = page.locator("section.national-check")
    assert report.get_by_role("heading", name="迎检预判").is_visible()
    assert report.locator(".verdict").inner_text() == words  # the same answers, the same chance
    page.emulate_media(media="print")
    assert report.locator("ol.assumptions").is_visible()
    report.screenshot(path=str(ARTIFACTS / "report-national-check-print.png"))
    context.close()


def test_the_panel_fits_a_phone(browser, server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    _results(page, server)
    panel = page.locator("section.national-check")
    assert panel.locator(".verdict").is_visible()
    box = panel.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 360
    panel.screenshot(path=str(ARTIFACTS / "results-national-check-phone.png"))
    context.close()
