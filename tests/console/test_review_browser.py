"""A whole review finished in the browser, as the bureau does it on the demo: a phone's answers
excluded as one sender, the rest kept in one decision on the whole filter; then the printed report
holds no 待审核 and counts what was kept and excluded."""

from __future__ import annotations

import re
import subprocess

import pytest

from support.browser import ARTIFACTS, LAPTOP, log_in, shot
from support.helpers import demo_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("review-browser"), answers=True) as (port, _):
        yield f"http://127.0.0.1:{port}"


def test_a_whole_review_is_finished_in_bulk_and_the_report_shows_no_pending(browser, server):
    context = browser.new_context(**LAPTOP)
    page = context.new_page()
    log_in(page, server, "admin", "demo-admin-pass")
    page.goto(f"{server}/console/rounds/1/review")
    progress = page.locator("#progress-heading + p").inner_text()
    flagged = int(re.search(r"标记答卷 (\d+) 份", progress).group(1))
    assert flagged > 0 and f"待审核 {flagged}" in progress
    shot(page, "review-before.png")

    # The largest sender first: one phone's answers, excluded together.
    first = page.locator("section.sender h3").first
    size = int(re.search(r"· (\d+) 份", first.inner_text()).group(1))
    assert size >= 5
    first.get_by_role("checkbox").check()
    page.get_by_label("理由（必填，写明核实情况）").fill("同一部手机几分钟内连续提交多份")
    page.get_by_label("剔除原因").select_option(label="组织代答或刷票")
    page.get_by_role("button", name="剔除", exact=True).click()
    assert f"已处理 {size} 份答卷" in page.locator("[role=status]").inner_text()

    page.get_by_label(re.compile("当前筛选的全部")).check()
    page.get_by_label("理由（必填，写明核实情况）").fill("逐份核对用时和选项，确认为真实作答")
    page.get_by_role("button", name="确认有效", exact=True).click()
    assert f"已处理 {flagged - size} 份答卷" in page.locator("[role=status]").inner_text()
    assert "审核已完成" in page.content()
    shot(page, "review-finished.png")

    page.goto(f"{server}/console/rounds/1/report")
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = ARTIFACTS / "report-reviewed.pdf"
    pdf.write_bytes(page.pdf(format="A4", prefer_css_page_size=True))
    text = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, check=True, text=True).stdout
    squeezed = re.sub(r"\s+", "", text)
    assert "待审核" not in squeezed
    assert f"其中审核后确认有效：核实为真实作答{flagged - size}" in squeezed
    assert f"其中审核后剔除{size}" in squeezed and f"其中已审核{flagged}" in squeezed
    context.close()
