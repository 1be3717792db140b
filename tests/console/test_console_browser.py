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
from playwright.sync_api import expect

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
    assert len(names) == 15 and "BH01-博湖县第一小学-家长.png" in names and "MANIFEST.sha256" in names

    page.goto(f"{round_url}/kit")
    pages = page.locator("section.kit")
    assert pages.count() == 11  # three sheets for each of three schools, two for the county-level groups
    # Every QR code image loaded (the page is printed as it shows).
    assert page.evaluate("[...document.images].every(img => img.complete && img.naturalWidth > 0)")
    assert pages.first.get_by_role("heading", name="博湖县第一小学 · 家长问卷").is_visible()
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


def test_a_school_operator_copies_its_links_on_a_phone(browser, server):
    """Each link as text with a copy button, a ready WeChat message, the captioned QR image to long-press;
    without JavaScript no button, and the link stays selectable in a readonly field."""
    base, _ = server
    context = browser.new_context(**PHONE)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page = context.new_page()
    log_in(page, base, "wq02", OPERATOR_PASSWORD)
    page.get_by_role("link", name="本校二维码与进度").click()
    school_url = page.url
    link = page.get_by_label("家长问卷链接")
    url = link.input_value()
    assert url.startswith(f"{base}/s/") and not link.is_editable()
    message = page.get_by_label("发给家长的微信消息").input_value()
    assert message.startswith("各位家长：请扫码或点击链接填写乌恰县第二小学") and message.endswith(url)
    assert page.get_by_label("学生问卷链接").is_visible() and page.get_by_label("教师问卷链接").is_visible()
    assert page.get_by_label("校长问卷链接").count() == 0 and page.get_by_text("个人填写码").is_visible()

    page.get_by_role("button", name="复制家长链接").click()
    expect(page.get_by_role("status").filter(has_text="已复制家长链接")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == url
    page.get_by_role("button", name="复制家长消息").click()
    assert page.evaluate("navigator.clipboard.readText()") == message

    # The captioned codes to long-press and save: PNG images that loaded.
    images = page.locator(".share img")
    assert images.count() == 3
    for k in range(3):
        images.nth(k).scroll_into_view_if_needed()
        assert images.nth(k).evaluate("img => img.complete && img.naturalWidth > 0")
    assert images.first.get_attribute("alt") == "乌恰县第二小学 家长问卷二维码"
    response = page.request.get(base + images.first.get_attribute("src"))
    assert response.headers["content-type"] == "image/png"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "console-school-share-phone.png")
    context.close()

    # Without JavaScript: no copy button, the link in a readonly field whose text can be selected.
    context = browser.new_context(**PHONE, java_script_enabled=False)
    page = context.new_page()
    log_in(page, base, "wq02", OPERATOR_PASSWORD)
    page.goto(school_url)
    assert page.get_by_role("button", name="复制家长链接").count() == 0
    link = page.get_by_label("家长问卷链接")
    assert link.input_value() == url and not link.is_editable() and link.get_attribute("readonly") is not None
    link.select_text()
    assert link.evaluate("field => [field.selectionStart, field.selectionEnd]") == [0, len(url)]
    context.close()
