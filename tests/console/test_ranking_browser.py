"""The school ranking in a real browser (Debian's Chromium driven by Playwright): on the demo county, a
school where 6 parents answered, every answer 满意, is not put first; it is ranked by its adjusted
figure, its 100% beside it. The screenshot goes to test-artifacts/results-ranking.png."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from support.browser import ARTIFACTS, LAPTOP, log_in
from support.demo_answers import demo_links, store_rows
from support.helpers import demo_server
from support.planned_answers import QUESTIONNAIRES, planned_rows
from survey_service.core.groups import DEFAULT_QUESTIONNAIRES, Group
from survey_service.demo.county import demo_schools
from survey_service.respond.answers import check_answers

SMALL = demo_schools()[3]


def store(database: str) -> None:
    survey, links = demo_links(database)
    plan = [("deputy", None, 12), ("public", None, 15)]
    plan += [
        (g, s.code, n) for s in demo_schools() if s.code != SMALL.code for g, n in (("parent", 25), ("student", 12))
    ]
    plan += [("parent", SMALL.code, 6)]
    rows = planned_rows(survey, links, plan, seed=3)
    questionnaire = QUESTIONNAIRES[DEFAULT_QUESTIONNAIRES[Group.parent]]
    best = check_answers(questionnaire, {item.id: questionnaire.scale[0].code for item in questionnaire.rated_items})
    best_answers = [msgspec.json.encode(best.answers).decode(), best.recognition, best.score, best.choices]
    rng = np.random.default_rng(3)
    for row in rows[:-6]:  # schools that truly differ: in some, more parents answer 满意 throughout
        if row[3] == "parent" and row[2] is not None and rng.random() < (row[2] % 5) * 0.2:
            row[6:10] = best_answers
    for row in rows[-6:]:  # the small school's six parents: every answer 满意, none flagged
        row[6:10] = best_answers
        row[15] = ""
    store_rows(database, rows)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("ranking-browser")
    with demo_server(directory) as (port, _):
        store(str(directory / "demo.db"))
        yield f"http://127.0.0.1:{port}"


def test_a_school_with_six_answers_all_recognised_is_not_ranked_first(browser, server):
    context = browser.new_context(**LAPTOP)
    page = context.new_page()
    log_in(page, server, "admin", "demo-admin-pass")
    page.get_by_role("link", name="调查结果").first.click()
    page.wait_for_url("**/results")
    section = page.locator("section", has=page.locator("#schools"))
    assert "按调整后认可度从高到低排名" in section.locator("p.note").first.inner_text()
    headers = section.locator("table").first.locator("thead th").all_inner_texts()
    assert headers[:8] == [
        "名次",
        "学校",
        "学段",
        "位置",
        "调整后认可度",
        "调整后95%区间",
        "认可度（直接估计）",
        "95%置信区间",
    ]
    rows = [r.locator("th, td").all_inner_texts() for r in section.locator("table").first.locator("tbody tr").all()]
    assert len(rows) == len(demo_schools())
    small = next(r for r in rows if r[1] == SMALL.name)
    assert small[6] == "100.0%" and int(small[0]) > 1 and rows[0][1] != SMALL.name
    adjusted = [float(r[4].rstrip("%")) for r in rows]
    assert adjusted == sorted(adjusted, reverse=True) and float(small[4].rstrip("%")) < 100
    ARTIFACTS.mkdir(exist_ok=True)
    section.screenshot(path=str(ARTIFACTS / "results-ranking.png"))
    context.close()
