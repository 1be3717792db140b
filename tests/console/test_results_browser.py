"""The results in a real browser (Debian's Chromium driven by Playwright): the bureau opens a round's
results and its printable report; screenshots go to test-artifacts/."""

from __future__ import annotations

import pytest

from support.browser import ARTIFACTS, LAPTOP, PHONE, log_in, shot
from support.demo_answers import demo_links, store_rows
from support.helpers import demo_server
from support.planned_answers import planned_rows
from survey_service.demo.county import demo_schools


def county_plan() -> list[tuple[str, str | None, int]]:
    """Answers from every demo school (the smallest with too few to show), and the county groups."""
    plan = [("deputy", None, 12), ("public", None, 15)]
    for k, school in enumerate(demo_schools()):
        few = k % 7 == 6
        plan += [
            ("parent", school.code, 3 if few else 8 + k % 5),
            ("student", school.code, 0 if few else 6),
            ("teacher", school.code, 0 if few else 5),
        ]
    return [row for row in plan if row[2]]


def store(database: str) -> None:
    survey, links = demo_links(database)
    store_rows(database, planned_rows(survey, links, county_plan(), seed=7))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("results-browser")
    with demo_server(directory) as (port, _):
        store(str(directory / "demo.db"))
        yield f"http://127.0.0.1:{port}"


def test_the_bureau_reads_the_results_and_prints_the_report(browser, server):  # noqa: F811
    context = browser.new_context(**LAPTOP, accept_downloads=True)
    page = context.new_page()
    log_in(page, server, "admin", "demo-admin-pass")
    page.get_by_role("link", name="调查结果").first.click()
    page.wait_for_url("**/results")
    assert page.get_by_role("heading", name="全县社会认可度").is_visible()
    assert page.locator("svg.chart").count() >= 5 and page.locator("svg.heat").count() == 3  # one per questionnaire
    assert page.locator(".result-head .verdict").inner_text() in ("达标", "未达标", "待定")
    shot(page, "results.png")
    page.locator("section", has=page.locator("#questionnaire-1")).locator("svg.heat").screenshot(
        path=str(ARTIFACTS / "results-heatmap.png")
    )
    with page.expect_download() as download:
        page.get_by_role("link", name="下载结果（Excel）").click()
    assert download.value.suggested_filename.endswith(".xlsx")

    page.get_by_role("link", name="打印报告（迎检材料）").click()
    page.wait_for_url("**/report")
    assert page.get_by_role("heading", name="一、调查方法说明").is_visible()
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible() and not page.locator(".no-print").first.is_visible()
    shot(page, "report-print.png")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    context.close()


def test_a_school_results_page_fits_a_phone(browser, server):  # noqa: F811
    context = browser.new_context(**PHONE)
    page = context.new_page()
    log_in(page, server, "admin", "demo-admin-pass")
    page.goto(f"{server}/console")
    page.get_by_role("link", name="调查结果").first.click()
    survey = page.url.split("/rounds/")[1].split("/")[0]
    page.goto(f"{server}/console/rounds/{survey}/schools/WQ01/results")
    assert page.get_by_role("heading", name="本校认可度").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "results-school-phone.png")
    context.close()
