"""Every console page passes axe-core (Deque's accessibility engine, bundled with
axe-playwright-python) in Debian's Chromium: 0 violations, for the bureau and a school's operator,
on the demo with its answers."""

from __future__ import annotations

import subprocess
import sys

import pytest
from axe_playwright_python.sync_playwright import Axe

from support.browser import LAPTOP, PHONE, log_in
from support.helpers import demo_server

OPERATOR_PASSWORD = "operator-pass-123"
BUREAU_PAGES = [
    "/console",
    "/console/rounds/new",
    "/console/rounds/{id}",
    "/console/rounds/{id}/edit",
    "/console/rounds/{id}/close",
    "/console/rounds/{id}/extend",
    "/console/rounds/{id}/letter",
    "/console/rounds/{id}/roster",
    "/console/rounds/{id}/roster/edit",
    "/console/rounds/{id}/roster/edit/WQ01",
    "/console/rounds/{id}/kit",
    "/console/rounds/{id}/progress",
    "/console/rounds/{id}/results",
    "/console/rounds/{id}/report",
    "/console/rounds/{id}/review",
    "/console/rounds/{id}/review?status=all",
    "/console/rounds/{id}/audit",
    "/console/rounds/{id}/schools/WQ01/results",
    "/console/rounds/{id}/suggestions",
]
OPERATOR_PAGES = [
    "/console",
    "/console/rounds/{id}/schools/WQ02",
    "/console/rounds/{id}/schools/WQ02/kit",
    "/console/rounds/{id}/schools/WQ02/results",
    "/console/rounds/{id}/schools/WQ02/suggestions",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("a11y")
    with demo_server(directory, answers=True) as (port, _):
        subprocess.run(
            [sys.executable, "-m", "survey_service", "user", "add", "--db", str(directory / "demo.db")]
            + ["--username", "wq02", "--role", "school", "--school", "WQ02", "--password", OPERATOR_PASSWORD],
            check=True,
            capture_output=True,
            cwd=directory,
        )
        yield f"http://127.0.0.1:{port}"


def violations(page) -> list[str]:
    found = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in found]


def check_pages(browser, base: str, username: str, password: str, paths: list[str], screen: dict) -> dict:
    context = browser.new_context(**screen)
    page = context.new_page()
    log_in(page, base, username, password)
    found = {}
    for path in paths:
        response = page.goto(base + path.format(id=1))
        assert response is not None and response.status == 200, (path, response and response.status)
        if problems := violations(page):
            found[path] = problems
    context.close()
    return found


def test_the_login_page_has_no_axe_violations(browser, server):
    for screen in (LAPTOP, PHONE):
        context = browser.new_context(**screen)
        page = context.new_page()
        page.goto(f"{server}/console/login")
        assert violations(page) == []
        page.get_by_label("用户名").fill("admin")
        page.get_by_label("密码").fill("wrong-password")
        page.get_by_role("button", name="登录").click()
        assert "用户名或密码" in page.content() and violations(page) == []  # the page with its error
        context.close()


def test_every_bureau_page_has_no_axe_violations(browser, server):
    assert check_pages(browser, server, "admin", "demo-admin-pass", BUREAU_PAGES, LAPTOP) == {}


def test_every_school_operator_page_on_a_phone_has_no_axe_violations(browser, server):
    assert check_pages(browser, server, "wq02", OPERATOR_PASSWORD, OPERATOR_PAGES, PHONE) == {}
