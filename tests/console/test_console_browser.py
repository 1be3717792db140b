"""The console in a real browser (Debian's Chromium driven by Playwright): the bureau sets up a round,
imports a roster and downloads the kit on a laptop; a school operator sees only its school on a phone."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from support.browser import LAPTOP, PHONE, log_in, shot
from support.helpers import demo_server

OPERATOR_PASSWORD = "wq02-password"
ROSTER = "\n".join(
    [
        "学校代码,学校名称,学段,城乡类型,学生数,家长数（户）,教师数,校长数",
        "BH01,博湖县第一小学,小学,城区,1200,1100,80,3",
        "BH02,博湖县第二小学,小学,镇区,600,580,40,2",
        "BH03,博湖县中学,初中,城区,900,880,70,3",
    ]
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The demo (bureau account admin / demo-admin-pass, see helpers.demo_server) with an operator account for school WQ02."""
    directory = tmp_path_factory.mktemp("console-browser")
    with demo_server(directory) as (port, _):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "survey_service",
                "user",
                "add",
                "--db",
                str(directory / "demo.db"),
                "--username",
                "wq02",
                "--role",
                "school",
                "--school",
                "WQ02",
                "--password",
                OPERATOR_PASSWORD,
            ],
            check=True,
            capture_output=True,
            cwd=directory,
        )
        yield f"http://127.0.0.1:{port}", directory


def test_the_bureau_sets_up_a_round_and_downloads_the_kit(browser, server):
    base, directory = server
    context = browser.new_context(**LAPTOP, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{base}/console")
    shot(page, "console-login.png")
    log_in(page, base, "admin", "demo-admin-pass")
    assert page.get_by_text("乌恰县义务教育优质均衡发展社会认可度调查（演示）").is_visible()

    page.get_by_role("link", name="新建调查轮次").click()
    page.get_by_label("轮次名称").fill("博湖县 2027 年社会认可度调查")
    page.get_by_label("地区（县）").fill("博湖县")
    page.get_by_label("常住人口").fill("61000")
    page.get_by_label("开始时间").fill("2030-05-10T08:00")
    page.get_by_label("结束时间").fill("2030-05-15T20:00")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r".*/console/rounds/\d+$"))
    assert page.get_by_role("heading", name=re.compile("博湖县 2027 年社会认可度调查")).is_visible()
    round_url = page.url

    page.get_by_role("link", name="导入学校名单").click()
    roster = directory / "博湖县学校名单.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    page.get_by_label("名单文件").set_input_files(str(roster))
    page.get_by_role("button", name="预览").click()
    assert page.get_by_text("文件检查通过：共 3 所学校").is_visible()
    shot(page, "console-roster-preview.png")
    page.get_by_role("button", name="确认导入").click()
    page.wait_for_url(re.compile(r".*/console/rounds/\d+\?imported=3.*"))
    assert page.get_by_text("3 所学校，14 个问卷链接").is_visible()
    shot(page, "console-round.png")

    with page.expect_download() as download:
        page.get_by_role("link", name="下载全部二维码（ZIP）").click()
    names = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes())).namelist()
    assert len(names) == 15 and "BH01_parent.png" in names and "MANIFEST.sha256" in names

    page.goto(f"{round_url}/kit")
    pages = page.locator("section.kit")
    assert pages.count() == 4  # three schools and the county-level groups
    # Every QR code image loaded (the page is printed as it shows).
    assert page.evaluate("[...document.images].every(img => img.complete && img.naturalWidth > 0)")
    assert pages.first.get_by_text("博湖县第一小学 · 社会认可度问卷").is_visible()
    shot(page, "console-kit.png")
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()
    context.close()


def test_a_school_operator_sees_only_its_school_on_a_phone(browser, server):
    base, _ = server
    context = browser.new_context(**PHONE)
    page = context.new_page()
    log_in(page, base, "wq02", OPERATOR_PASSWORD)
    assert page.get_by_text("本校的调查轮次").is_visible()
    assert page.get_by_role("link", name="新建调查轮次").count() == 0
    page.get_by_role("link", name="本校二维码与进度").click()
    assert page.get_by_role("heading", name=re.compile("乌恰县第二小学")).is_visible()
    assert page.get_by_text("乌恰县第一小学").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "console-school-phone.png")

    other = page.url.replace("/schools/WQ02", "/schools/WQ01")
    response = page.goto(other)
    assert response.status == 403 and page.get_by_text("没有权限").first.is_visible()
    response = page.goto(re.sub(r"/schools/WQ02.*$", "/progress", page.url.replace("WQ01", "WQ02")))
    assert response.status == 403
    context.close()
