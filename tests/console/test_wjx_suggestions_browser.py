"""A 问卷星 export's 意见和建议 in a real browser (Debian's Chromium through Playwright) on `survey-service
demo`'s server: imported, then read on the round's 意见建议 page with the source 问卷星导入."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from support.browser import LAPTOP, log_in, shot
from support.helpers import demo_server
from support.wjx_exports import suggestion_export
from survey_service.core.resources import questionnaires_dir
from survey_service.demo.county import demo_schools
from survey_service.questionnaire import load_questionnaires

SAID = ["建议乡村学校增开音乐美术课", "(空)", '=HYPERLINK("http://example.com/x","点击领取")', "希望校车\n更准时"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("wjx-suggestions-browser")
    with demo_server(directory) as (port, _):
        yield f"http://127.0.0.1:{port}"


def test_imported_suggestions_are_read_with_their_source(browser, server, tmp_path):
    social = load_questionnaires(questionnaires_dir())["social"]
    export = suggestion_export(tmp_path / "问卷星意见建议.gbk.csv", social, [demo_schools()[0].name], SAID)
    page = browser.new_context(**LAPTOP).new_page()
    log_in(page, server, "admin", "demo-admin-pass")
    page.get_by_role("link", name="管理").first.click()
    round_url = page.url
    page.get_by_role("link", name="导入问卷星数据").click()
    page.get_by_label("问卷星答卷文件").set_input_files(str(export))
    page.get_by_role("button", name="预览").click()
    expect(page.get_by_text(re.compile("意见建议（文字题，不参与计算）：题"))).to_be_visible()
    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_role("status")).to_contain_text("导入 4 份答卷（来源：问卷星导入）")

    page.goto(round_url.split("?")[0].rstrip("/") + "/suggestions?q=" + "校车")
    row = page.get_by_role("row", name=re.compile("希望校车"))
    expect(row).to_contain_text("问卷星导入")
    page.goto(round_url.split("?")[0].rstrip("/") + "/suggestions")
    expect(page.get_by_role("row", name=re.compile("建议乡村学校增开音乐美术课"))).to_contain_text("问卷星导入")
    formula = page.get_by_role("row", name=re.compile("HYPERLINK"))
    expect(formula).to_contain_text('=HYPERLINK("http://example.com/x","点击领取")')
    expect(formula.get_by_role("link")).to_have_count(0)
    shot(page, "wjx-suggestions.png")
