"""迎检预判's round settings on the round form in a real browser (Debian's Chromium via Playwright): the
bureau chooses the national sample's group weighting and design effect, a wrong value is named in
Chinese beside its field, and the saved choice comes back on the form."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from support.browser import LAPTOP, log_in, shot
from support.helpers import demo_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The demo (bureau account admin / demo-admin-pass, see helpers.demo_server)."""
    with demo_server(tmp_path_factory.mktemp("national-settings")) as (port, _):
        yield f"http://127.0.0.1:{port}"


def test_the_bureau_chooses_how_the_national_check_weighs_groups(browser, server):
    context = browser.new_context(**LAPTOP)
    page = context.new_page()
    log_in(page, server, "admin", "demo-admin-pass")
    page.get_by_role("link", name="新建调查轮次").click()
    page.get_by_label("轮次名称").fill("博湖县 2027 年社会认可度调查")
    page.get_by_label("地区（县）").fill("博湖县")
    page.get_by_label("开始时间").fill("2030-05-10T08:00")
    page.get_by_label("结束时间").fill("2030-05-15T20:00")
    weighting = page.get_by_label("国家评估组样本的群体权重")
    expect(weighting).to_have_value("respondents")
    expect(page.get_by_label("国家样本的设计效应")).to_have_value("1")
    weighting.select_option(label="按本轮群体权重")
    page.get_by_label("国家样本的设计效应").fill("0.5")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("设计效应应在 1 到 10 之间。")).to_be_visible()
    expect(page.get_by_label("国家评估组样本的群体权重")).to_have_value("round")  # what was chosen comes back
    shot(page, "console-round-form-national-refused.png")

    page.get_by_label("国家样本的设计效应").fill("1.5")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r".*/console/rounds/\d+$"))
    page.goto(page.url + "/edit")
    expect(page.get_by_label("国家评估组样本的群体权重")).to_have_value("round")
    expect(page.get_by_label("国家样本的设计效应")).to_have_value("1.5")
    page.get_by_label("国家样本的设计效应").scroll_into_view_if_needed()
    shot(page, "console-round-form-national.png")
    context.close()
