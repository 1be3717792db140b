"""迎检预判's settings on the round page in a real browser (Debian's Chromium via Playwright), on the demo
county with its answers (`survey-service demo`): the bureau changes the national sample's group weighting
and design effect on the open round and on last year's closed one, the change log says who changed what
from what, the results page's 迎检预判 follows at once, and a wrong value is refused in Chinese with
nothing changed. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import expect

from support.browser import LAPTOP, log_in, shot
from support.helpers import demo_server

SETTINGS_SQL = "SELECT national_weighting, national_design_effect FROM survey WHERE id = ?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The demo (bureau account admin / demo-admin-pass, see helpers.demo_server) and its database."""
    directory = tmp_path_factory.mktemp("national-settings")
    with demo_server(directory, answers=True) as (port, _):
        yield f"http://127.0.0.1:{port}", directory / "demo.db"


def stored(db: Path, survey_id: int) -> tuple:
    with sqlite3.connect(db) as connection:
        row = connection.execute(SETTINGS_SQL, (survey_id,)).fetchone()
    connection.close()
    return row


def previous_round(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        (previous,) = connection.execute("SELECT previous_round FROM survey WHERE id = 1").fetchone()
    connection.close()
    return previous


def test_the_bureau_changes_the_national_check_settings_on_the_round_page(browser, server):
    base, db = server
    context = browser.new_context(**LAPTOP)
    page = context.new_page()
    log_in(page, base, "admin", "demo-admin-pass")
    page.goto(f"{base}/console/rounds/1/results")
    assert "各群体按答卷人数计权" in page.locator("body").inner_text()

    page.goto(f"{base}/console/rounds/1")
    card = page.locator("#national")
    expect(card.get_by_role("heading", name="迎检预判设置")).to_be_visible()
    assert "进行中" in page.locator("h1").inner_text()
    weighting, effect = card.get_by_label("国家评估组样本的群体权重"), card.get_by_label("国家样本的设计效应")
    expect(weighting).to_have_value("respondents")
    expect(effect).to_have_value("1")
    weighting.select_option(label="按本轮群体权重")
    effect.fill("2")
    card.get_by_role("button", name="保存迎检预判设置").click()
    page.wait_for_url(re.compile(r"/console/rounds/1#national$"))
    card = page.locator("#national")
    expect(card).to_contain_text("迎检预判：国家评估组样本的群体权重按本轮群体权重，国家样本的设计效应 2。")
    expect(card.get_by_label("国家评估组样本的群体权重")).to_have_value("round")
    expect(card.get_by_label("国家样本的设计效应")).to_have_value("2")
    entry = page.locator("#changes tbody tr").first.locator("td").all_inner_texts()
    assert entry[1:] == [
        "admin",
        "迎检预判设置",
        "迎检预判的群体权重：按答卷人数（默认） → 按本轮群体权重；迎检预判的设计效应：1 → 2。",
        "—",
    ]
    assert stored(db, 1) == ("round", 2.0)
    card.scroll_into_view_if_needed()
    shot(page, "console-round-national-settings.png")

    # The results page reads the new choice at once.
    page.goto(f"{base}/console/rounds/1/results")
    text = page.locator("body").inner_text()
    assert "按本轮的群体权重把各群体的认可度加权合计" in text and "国家样本的设计效应取 2。" in text
    assert "各群体按答卷人数计权" not in text

    # A wrong value: refused in Chinese, nothing changed.
    page.goto(f"{base}/console/rounds/1")
    page.locator("#national").get_by_label("国家样本的设计效应").fill("0.5")
    page.locator("#national").get_by_role("button", name="保存迎检预判设置").click()
    expect(page.get_by_text("设计效应应在 1 到 10 之间。")).to_be_visible()
    expect(page.get_by_text("没有做任何修改")).to_be_visible()
    shot(page, "console-round-national-settings-refused.png")
    assert stored(db, 1) == ("round", 2.0)
    context.close()


def test_last_years_closed_round_can_still_be_changed(browser, server):
    base, db = server
    previous = previous_round(db)
    page = browser.new_context(**LAPTOP).new_page()
    log_in(page, base, "admin", "demo-admin-pass")
    page.goto(f"{base}/console/rounds/{previous}")
    assert "已结束" in page.locator("h1").inner_text()
    card = page.locator("#national")
    card.get_by_label("国家样本的设计效应").fill("")
    card.get_by_role("button", name="保存迎检预判设置").click()
    page.wait_for_url(re.compile(rf"/console/rounds/{previous}#national$"))
    expect(page.locator("#national")).to_contain_text("国家样本的设计效应取本轮各群体的设计效应（不小于 1）。")
    assert stored(db, previous) == ("respondents", None)
    expect(page.locator("#changes")).to_contain_text("迎检预判的设计效应：1 → 取本轮各群体的设计效应（不小于 1）。")
    page.goto(f"{base}/console/rounds/{previous}/results")
    assert "国家样本的设计效应取本轮各群体的设计效应（不小于 1）。" in page.locator("body").inner_text()
