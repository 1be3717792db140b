"""The printed kit as a school receives it: Chromium prints a school's sheets and the county's to A4 PDFs,
pdftoppm turns each page into an image and OpenCV decodes every QR code on it, pdftotext reads its
words. A parents' page decodes to the parents' link only, a students' page to the students', the staff
page to the teachers' (never the principals'), each county page to its group's; each page names its
school and group; the letter says 下方 and the code is below it. The PDFs and page images go to
test-artifacts/ for a person to look at."""

from __future__ import annotations

import asyncio
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from litestar.testing import AsyncTestClient

from support.browser import ARTIFACTS, chromium
from support.console_session import PASSWORD, login
from support.qr import decode_all
from survey_service.accounts.schemas import AccountSpec, Role
from survey_service.accounts.service import add_account
from survey_service.core.resources import questionnaires_dir
from survey_service.db.engine import bind, close_pool, make_engine, open_pool
from survey_service.demo.service import ensure_demo_round
from survey_service.distribution.service import list_links
from survey_service.questionnaire import load_questionnaires

BASE = "http://survey.test"
DPI = 150
IDENTIFIER = re.compile(r"[a-z]+_[a-z_]+")
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}(?:[ ,;:'-]+[A-Za-z]{2,}){3,}")


async def kit_pages(settings) -> tuple[int, dict[tuple[str, str], str], dict[str, tuple[str, bytes]]]:
    """The demo round's links ({(school code, group): url}) and the kit pages, their CSS and every QR
    image they show, as the bureau's browser receives them."""
    engine = bind(make_engine(settings))
    await open_pool(engine)
    try:
        survey_id = await ensure_demo_round(load_questionnaires(questionnaires_dir()))
        await add_account(AccountSpec(username="chief", role=Role.bureau, school_code=None, password=PASSWORD))
        links = {
            (row.school_code, row.group.value): row.url for row in await list_links(survey_id, settings.public_url)
        }
    finally:
        await close_pool(engine)

    from survey_service.app import create_app

    pages: dict[str, tuple[str, bytes]] = {}
    async with AsyncTestClient(app=create_app(settings), base_url=BASE) as client:
        await login(client, "chief")
        kits = [f"/console/rounds/{survey_id}/schools/WQ01/kit", f"/console/rounds/{survey_id}/kit?audience=county"]
        for path in kits + ["/static/console/console.css"]:
            response = await client.get(path)
            assert response.status_code == 200, path
            pages[path] = (response.headers["content-type"], response.content)
        for path in kits:
            for image in re.findall(r'src="(/qr/[^"]+\.png)"', pages[path][1].decode()):
                pages[image] = ("image/png", (await client.get(image)).content)
    return survey_id, links, pages


def prepared(settings):
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, kit_pages(settings)).result()


def printed(browser, pages: dict[str, tuple[str, bytes]], path: str, name: str) -> list[dict]:
    """Each page of the printed PDF: its words (pdftotext), the QR codes on its image with their top
    (in points), and where 下方 and 上方 stand (in points)."""
    asked: list[str] = []
    context = browser.new_context()
    page = context.new_page()

    def serve(route):
        url = urlsplit(route.request.url)
        asked.append(route.request.url)
        found = pages.get(url.path + (f"?{url.query}" if url.query else ""))
        if route.request.url.startswith(BASE) and found is not None:
            route.fulfill(status=200, content_type=found[0], body=found[1])
        else:
            route.abort()

    page.route("**/*", serve)
    page.goto(BASE + path)
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    context.close()
    assert len(asked) == len(set(asked)) and all(url.startswith(BASE) for url in asked), asked
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / f"{name}.pdf"
    out.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-raw", str(out), "-"], capture_output=True, check=True, text=True).stdout
    texts = text.split("\f")[:-1]
    images = ARTIFACTS / name
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", str(DPI), str(out), str(images)], check=True)
    shots = sorted(ARTIFACTS.glob(f"{name}-*.png"))
    assert len(shots) == len(texts)
    result = []
    for k, (words, shot) in enumerate(zip(texts, shots), start=1):
        codes = [(url, top * 72 / DPI) for url, top in decode_all(shot.read_bytes())]
        result.append({"text": words, "codes": codes, **word_tops(out, k)})
    return result


def word_tops(pdf: Path, number: int) -> dict[str, list[float]]:
    """The top (in points) of every word on page `number` holding 下方 or 上方."""
    html = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(number), "-l", str(number), str(pdf), "-"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    words = re.findall(r'<word xMin="[\d.]+" yMin="([\d.]+)"[^>]*>([^<]*)</word>', html)
    return {where: [float(y) for y, word in words if where in word] for where in ("下方", "上方")}


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def check_plain(page: dict) -> None:
    assert not IDENTIFIER.findall(page["text"]), IDENTIFIER.findall(page["text"])
    assert not ENGLISH_SENTENCE.findall(page["text"]), ENGLISH_SENTENCE.findall(page["text"])


@pytest.fixture
def browser():
    with chromium() as launched:
        yield launched


def test_each_printed_sheet_carries_only_its_own_groups_code(settings, request):
    survey_id, links, pages = prepared(settings)
    browser = request.getfixturevalue("browser")

    school = printed(browser, pages, f"/console/rounds/{survey_id}/schools/WQ01/kit", "kit-WQ01")
    assert len(school) == 3  # 家长, 学生, 教职工: one A4 page each
    parents, students, staff = school
    for page, group, label in ((parents, "parent", "家长"), (students, "student", "学生"), (staff, "teacher", "教师")):
        assert [url for url, _ in page["codes"]] == [links[("WQ01", group)]], (label, page["codes"])
        text = squeezed(page["text"])
        assert f"乌恰县第一小学·{label}问卷" in text, label
        assert f"乌恰县第一小学·{label}问卷二维码" in text, label  # the caption under the code
        check_plain(page)
    # The letter points down to the code, and the code is below it.
    assert "致家长的一封信" in parents["text"] and parents["下方"] and not parents["上方"]
    code_top = parents["codes"][0][1]
    assert all(top < code_top for top in parents["下方"]), (parents["下方"], code_top)
    assert "致家长的一封信" not in students["text"] + staff["text"]
    assert "三年级及以上" in squeezed(students["text"])
    # The principal answers by a personal code from the bureau: said on the staff sheet, never printed.
    assert "个人填写码" in squeezed(staff["text"])
    printed_urls = {url for page in school for url, _ in page["codes"]}
    assert links[("WQ01", "principal")] not in printed_urls

    county = printed(browser, pages, f"/console/rounds/{survey_id}/kit?audience=county", "kit-county")
    assert len(county) == 2
    for page, group, label in zip(county, ("deputy", "public"), ("人大代表/政协委员", "其他群众")):
        assert [url for url, _ in page["codes"]] == [links[("", group)]], (label, page["codes"])
        assert f"全县·{label}问卷二维码" in squeezed(page["text"]), label
        check_plain(page)
