"""导入问卷星数据 in a real browser (Debian's Chromium through Playwright) on `survey-service demo`'s
server: the bureau uploads a county's 问卷星 export, checks what was mapped, confirms, and the results
page counts the answers with their source."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from support.browser import ARTIFACTS, LAPTOP, log_in, shot
from support.helpers import demo_server
from support.wjx_exports import county_export
from survey_service.core.resources import questionnaires_dir
from survey_service.demo.county import demo_schools
from survey_service.questionnaire import load_questionnaires


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("wjx-browser")
    with demo_server(directory) as (port, _):
        yield f"http://127.0.0.1:{port}", directory


def test_the_bureau_imports_a_wjx_export_and_reads_the_results(browser, server, tmp_path):
    base, _ = server
    social = load_questionnaires(questionnaires_dir())["social"]
    export = county_export(tmp_path / "乌恰县社会卷_问卷星.xlsx", social, [(s.code, s.name) for s in demo_schools()])
    page = browser.new_context(**LAPTOP).new_page()
    log_in(page, base, "admin", "demo-admin-pass")
    page.get_by_role("link", name="管理").first.click()
    page.get_by_role("link", name="导入问卷星数据").click()
    expect(page.get_by_role("heading", name=re.compile("导入问卷星数据"))).to_be_visible()

    # A file that is not an export: refused, nothing changes.
    bad = tmp_path / "名单.csv"
    bad.write_text("学校代码,学校名称\nWQ01,乌恰县第一小学\n", encoding="utf-8")
    page.get_by_label("问卷星答卷文件").set_input_files(str(bad))
    page.get_by_role("button", name="预览").click()
    expect(page.get_by_role("alert")).to_contain_text("文件没有导入，本轮答卷没有任何变化")
    shot(page, "wjx-import-refused.png")

    page.get_by_label("问卷星答卷文件").set_input_files(str(export))
    page.get_by_role("button", name="预览").click()
    expect(page.get_by_text("文件检查通过")).to_be_visible()
    expect(page.get_by_text("身份列：1、您的身份是：")).to_be_visible()
    expect(page.get_by_text("学校列：2、您孩子就读的学校：")).to_be_visible()
    expect(page.get_by_text(re.compile("题目对应（.*社会卷.*）：题3→问卷第1题“您对本县中小学落实立德"))).to_be_visible()
    summary = page.get_by_text("文件检查通过").inner_text()
    answers = int(re.search(r"(\d+) 份答卷可以导入", summary).group(1))
    shot(page, "wjx-import-preview.png")

    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_role("status")).to_contain_text(f"导入 {answers} 份答卷（来源：问卷星导入）")
    shot(page, "wjx-import-done.png")

    page.get_by_role("link", name="查看结果").click()
    expect(page.get_by_text("来源：问卷星导入").first).to_be_visible()
    shot(page, "wjx-import-results.png")
    validity = page.get_by_text("来源：问卷星导入").first.locator("xpath=ancestor::table[1]")
    validity.screenshot(path=str(ARTIFACTS / "wjx-import-validity.png"))

    # The same file again: nothing new.
    page.goto(page.url.rsplit("/results", 1)[0] + "/wjx")
    page.get_by_label("问卷星答卷文件").set_input_files(str(export))
    page.get_by_role("button", name="预览").click()
    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"导入 0 份答卷（来源：问卷星导入）；另有 {answers} 份此前已导入"
    )
