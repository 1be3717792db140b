"""Paper questionnaires in a real browser (Debian's Chromium through Playwright), on a live demo server:
the bureau prints numbered forms and Chromium's PDF of each questionnaire's form has at most two A4
pages, every item, the scale, the number and a QR code that decodes to it; a school's operator and the
bureau key one form in twice by keyboard alone (the number, Enter, a digit per item, Enter), a form
keyed in differently waits for the third look and counts once settled; without JavaScript the page is
still a plain form. Screenshots and PDF pages go to test-artifacts/."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys

import pytest
from axe_playwright_python.sync_playwright import Axe

from support.browser import ARTIFACTS, LAPTOP, log_in, shot
from support.helpers import demo_server
from support.qr import decode_all
from survey_service.core.resources import questionnaires_dir
from survey_service.questionnaire import load_questionnaires

OPERATOR_PASSWORD = "wq01-password"
QUESTIONNAIRES = load_questionnaires(questionnaires_dir())
SOCIAL_ITEMS = [item for item in QUESTIONNAIRES["social"].items if item.kind.value != "text"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The demo (bureau account admin / demo-admin-pass) with an operator account for school WQ01."""
    directory = tmp_path_factory.mktemp("paper-browser")
    with demo_server(directory) as (port, _):
        add = ["user", "add", "--db", str(directory / "demo.db"), "--username", "wq01", "--role", "school"]
        subprocess.run(
            [sys.executable, "-m", "survey_service", *add, "--school", "WQ01", "--password", OPERATOR_PASSWORD],
            check=True,
            capture_output=True,
            cwd=directory,
        )
        yield f"http://127.0.0.1:{port}", directory


def violations(page) -> list[str]:
    """axe-core's findings on the page (Deque's engine, bundled with axe-playwright-python)."""
    found = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in found]


def paper_answers(directory) -> list[tuple[str, str]]:
    with sqlite3.connect(directory / "demo.db") as db:
        return db.execute("SELECT nonce, answers FROM response WHERE source = 'paper' ORDER BY id").fetchall()


def issue(page, base: str, group_label: str, count: int) -> list[str]:
    """Print `count` new forms from the school's paper page; the numbers on the print page."""
    page.goto(f"{base}/console/rounds/1/schools/WQ01/paper")
    page.get_by_label("打印份数").nth({"学生": 0, "家长": 1, "教师": 2}[group_label]).fill(str(count))
    page.get_by_role("button", name=f"打印{group_label}问卷").click()
    page.wait_for_url(re.compile(r".*/print\?batch=\d+$"))
    return re.findall(
        rf"WQ01-{group_label}-\d{{4}}", page.locator("article.paper-form .paper-number").all_inner_texts().__str__()
    )


def pdf_pages(pdf: bytes, name: str) -> tuple[list[str], list]:
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / f"{name}.pdf"
    out.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-raw", str(out), "-"], capture_output=True, check=True, text=True).stdout
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "150", str(out), str(ARTIFACTS / name)], check=True)
    return text.split("\f")[:-1], sorted(ARTIFACTS.glob(f"{name}-*.png"))


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("group_label,questionnaire", [("家长", "social"), ("学生", "student"), ("教师", "staff")])
def test_a_printed_form_has_its_items_number_and_code_on_at_most_two_a4_pages(
    browser, server, group_label, questionnaire
):
    base, _ = server
    context = browser.new_context(**LAPTOP)
    page = context.new_page()
    log_in(page, base, "admin", "demo-admin-pass")
    [number] = issue(page, base, group_label, 1)
    pages, images = pdf_pages(page.pdf(format="A4", prefer_css_page_size=True), f"paper-form-{questionnaire}")
    context.close()
    assert 1 <= len(pages) <= 2 and len(images) == len(pages)
    text = squeezed("".join(pages))
    assert number in squeezed(pages[0])
    q = QUESTIONNAIRES[questionnaire]
    for item in q.items:
        assert squeezed(item.text) in text, item.text
    for option in q.scale:
        assert option.label in text
    assert "乌恰县第一小学" in text and f"{group_label}问卷" in text
    assert "打印" not in text  # the console's own words stay off the paper
    # The code in the number box decodes to the number in plain characters (a scanner types it).
    codes = [code for code, _ in decode_all(images[0].read_bytes())]
    assert codes == [
        number.replace(f"-{group_label}-", "-" + {"家长": "P", "学生": "S", "教师": "T"}[group_label] + "-")
    ]


def key_in(page, number: str, keys: str, suggestion: str = "") -> None:
    """Key a form in as a person at a keyboard: the number, Enter, a digit per item, the text, Enter, Enter."""
    page.locator("#number").focus()
    page.keyboard.type(number)
    page.keyboard.press("Enter")
    for key in keys:
        page.keyboard.press(key)
    if suggestion:
        page.keyboard.type(suggestion)
    page.keyboard.press("Enter")  # out of the text item: to the save button
    assert page.evaluate("document.activeElement.id") == "save"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf".*\?saved={int(number.rsplit('-', 1)[1])}$"))


def test_forms_keyed_in_twice_by_keyboard_count_only_when_both_agree_or_once_settled(browser, server):
    base, directory = server
    entry = f"{base}/console/rounds/1/schools/WQ01/paper/parent"
    operator = browser.new_context(**LAPTOP).new_page()
    log_in(operator, base, "wq01", OPERATOR_PASSWORD)
    first, second = issue(operator, base, "家长", 2)
    before = len(paper_answers(directory))

    alike = "1213121312131"[: len(SOCIAL_ITEMS)]
    for path in ("/console/rounds/1/schools/WQ01/paper", "/console/rounds/1/schools/WQ01/paper/parent"):
        operator.goto(base + path)
        assert violations(operator) == [], path
    # The page with its errors marked (form.submit() skips the script's own check, as without it).
    operator.goto(entry)
    operator.locator("#number").fill(first)
    with operator.expect_navigation():
        operator.evaluate("document.getElementById('paper-entry').submit()")
    assert "第 1 题未录入" in operator.content() and "本份没有保存" in operator.content()
    assert operator.evaluate("document.activeElement.getAttribute('name')") == SOCIAL_ITEMS[0].id
    assert violations(operator) == []
    operator.goto(entry)
    assert operator.evaluate("document.activeElement.id") == "number"
    # A wrong key is caught: 7 is no option, and Backspace goes back one item.
    operator.keyboard.type(first.rsplit("-", 1)[1])
    operator.keyboard.press("Enter")
    operator.keyboard.press("7")
    assert "没有选项 7" in operator.locator(".entry-hint").inner_text()
    operator.keyboard.press("5")
    operator.keyboard.press("Backspace")
    for key in alike:
        operator.keyboard.press(key)
    operator.keyboard.type("希望多开展家长会")
    operator.keyboard.press("Enter")
    shot(operator, "paper-entry-keyed.png")
    operator.keyboard.press("Enter")
    operator.wait_for_url(re.compile(r".*\?saved=\d+$"))
    assert f"{first}：已录入一遍，待第二遍" in operator.locator("#saved").inner_text()
    assert len(paper_answers(directory)) == before
    key_in(operator, second, alike)

    bureau = browser.new_context(**LAPTOP).new_page()
    log_in(bureau, base, "admin", "demo-admin-pass")
    bureau.goto(entry)
    key_in(bureau, first, alike, "希望多开展家长会")
    assert "两遍一致，已计入" in bureau.locator("#saved").inner_text()
    assert len(paper_answers(directory)) == before + 1
    # The second form keyed in with item 4 different: it waits for the third look.
    differs = alike[:3] + "4" + alike[4:]
    key_in(bureau, second, differs)
    assert "两遍不一致，待核对" in bureau.locator("#saved").inner_text()
    assert len(paper_answers(directory)) == before + 1

    bureau.goto(f"{entry}/check")
    assert violations(bureau) == []
    rows = bureau.locator("tr.differs")
    assert rows.count() == 1 and "4 不满意" in rows.inner_text() and "3 基本满意" in rows.inner_text()
    shot(bureau, "paper-check.png")
    rows.get_by_label("比较满意").check()
    bureau.get_by_role("button", name="保存核对结果并计入").click()
    bureau.wait_for_url(re.compile(r".*settled=\d+$"))
    assert f"编号 {second} 已核对，计入结果" in bureau.get_by_role("status").inner_text()
    stored = paper_answers(directory)
    assert len(stored) == before + 2
    assert f'"{SOCIAL_ITEMS[3].id}":"fairly_satisfied"' in stored[-1][1]
    assert '"suggestions":"希望多开展家长会"' in stored[-2][1]


def test_without_javascript_the_entry_page_is_a_plain_form(browser, server):
    base, directory = server
    context = browser.new_context(**LAPTOP, java_script_enabled=False)
    page = context.new_page()
    log_in(page, base, "admin", "demo-admin-pass")
    [number] = issue(page, base, "学生", 1)
    page.goto(f"{base}/console/rounds/1/schools/WQ01/paper/student")
    page.locator("#number").fill(number)
    page.get_by_role("button", name="保存本份").click()
    # Nothing keyed in for the items: the page comes back with each item marked, nothing saved.
    assert "第 1 题未录入" in page.content()
    for fieldset in page.locator("fieldset[data-entry-item]").all():
        fieldset.get_by_label("满意", exact=True).check() if fieldset.get_by_label(
            "满意", exact=True
        ).count() else fieldset.locator("input").first.check()
    page.get_by_role("button", name="保存本份").click()
    page.wait_for_url(re.compile(r".*\?saved=\d+$"))
    assert f"{number}：已录入一遍" in page.locator("#saved").inner_text()
    shot(page, "paper-entry-no-js.png")
    context.close()
