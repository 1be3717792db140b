"""整改清单 in a real browser (Debian's Chromium): on the demo county, the bureau reads 需重点整改 on the
results page next to 迎检预判, and in the printed report; screenshots go to test-artifacts/."""

from __future__ import annotations

import re

import pytest

from support.browser import ARTIFACTS, LAPTOP, log_in
from support.helpers import demo_server
from survey_service.core.resources import questionnaires_dir
from survey_service.demo.county import demo_schools
from survey_service.questionnaire import load_questionnaires

ITEM_IDS = {item.id for q in load_questionnaires(questionnaires_dir()).values() for item in q.rated_items}
SCHOOL_NAMES = {s.name for s in demo_schools()}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("improvement-browser"), answers=True) as (port, _):
        yield f"http://127.0.0.1:{port}"


def _no_ids(text: str) -> None:
    assert not ITEM_IDS & set(re.findall(r"[a-z_]+", text)), "an item id on the page"
    assert not re.search(r"\bWQ\d", text), "a school code on the page"
    assert not re.search(r"\b(parent|student|teacher|principal|deputy|public)\b", text)


def test_the_bureau_reads_what_to_fix(browser, server):
    context = browser.new_context(**LAPTOP)
    page = context.new_page()
    log_in(page, server, "admin", "demo-admin-pass")
    page.goto(f"{server}/console/rounds/1/results")
    section = page.locator("section.improvement")
    assert section.get_by_role("heading", name="需重点整改").is_visible()
    rows = section.locator("table.improvement-list tbody tr")
    assert rows.count() >= 5
    first = rows.first.locator("th").inner_text()
    assert first in SCHOOL_NAMES or first.startswith("全县")
    assert "校正后p值" in section.locator("table.improvement-list thead").inner_text()
    p_values = [float(t.replace("< ", "")) for t in rows.locator("td:last-child").all_inner_texts()]
    assert p_values == sorted(p_values) and max(p_values) <= 0.1
    gaps = [float(t) for t in rows.locator("td:nth-child(6)").all_inner_texts()]
    assert all(g < 0 for g in gaps)
    assert section.locator("table.improvement-items tbody tr").count() >= 1
    assert "样本过少，未检验" in section.locator("p.untested").inner_text()
    _no_ids(section.inner_text())
    # Next to the 迎检预判 panel, before the group table.
    order = page.locator("section.card h2").all_inner_texts()
    assert order.index("需重点整改") < order.index("分群体")
    ARTIFACTS.mkdir(exist_ok=True)
    section.screenshot(path=str(ARTIFACTS / "improvement.png"))

    page.goto(f"{server}/console/rounds/1/report")
    page.emulate_media(media="print")
    printed = page.locator("section.improvement")
    assert printed.get_by_role("heading", name="需重点整改").is_visible()
    assert printed.locator("table.improvement-list tbody tr").count() == rows.count()
    _no_ids(printed.inner_text())
    printed.screenshot(path=str(ARTIFACTS / "improvement-print.png"))
    assert page.pdf(format="A4").startswith(b"%PDF")
    context.close()
