"""The printed report as an inspector receives it: Chromium prints /console/rounds/{id}/report to an A4
PDF (as a bureau does from its browser), pdftotext reads it back, and the text must hold every school,
every item text of every questionnaire, the report date, 数据截至, page numbers with the total and the
sign-off block, and no internal id or English sentence. Once on the demo round, once on a round whose
three questionnaires have 18 items each (worded differently under the same ids). The PDFs and page
images go to test-artifacts/ for a person to look at.

The tests are synchronous: the round is prepared and the pages read through the app on an event loop
of their own (asyncio.run), then the module's browser prints them, every request answered from those
pages (nothing else is fetched: no web font)."""

from __future__ import annotations

import asyncio
import re
import subprocess
import tomllib
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import msgspec
import numpy as np
import pytest
import tomli_w
from litestar.testing import AsyncTestClient

from support.browser import ARTIFACTS, chromium
from support.console_session import PASSWORD, login
from support.helpers import fetch, insert_responses
from support.respondents import COLUMNS
from survey_service.accounts.schemas import AccountSpec, Role
from survey_service.accounts.service import add_account
from survey_service.core.groups import DEFAULT_QUESTIONNAIRES, Group
from survey_service.core.resources import questionnaires_dir
from survey_service.db.engine import bind, close_pool, make_engine, open_pool
from survey_service.demo.county import demo_schools
from survey_service.demo.service import ensure_demo_round
from survey_service.questionnaire import Questionnaire, load_questionnaires
from survey_service.respond.answers import check_answers

BASE = "http://survey.test"
IDENTIFIER = re.compile(r"[a-z]+_[a-z_]+")
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}(?:[ ,;:'-]+[A-Za-z]{2,}){3,}")
TOPICS = [
    "落实立德树人根本任务",
    "落实义务教育公平政策",
    "免试就近入学和阳光招生",
    "推动优质教育资源共享",
    "缩小城乡学校办学条件差距",
    "缩小校际教师队伍差距",
    "保障教师工资待遇",
    "教师培训和专业发展",
    "规范办学行为",
    "实施素质教育",
    "推进考试评价制度改革",
    "减轻学生过重课业负担",
    "学校食堂和营养改善",
    "校园安全和学生心理健康",
    "课后服务和托管",
    "家校沟通和家长学校",
    "义务教育质量的整体提高",
    "政府推进优质均衡发展所做的努力",
]
VOICES = {
    "social": "您对本县{}的情况是否满意？",
    "staff": "作为本县教职工，您对{}方面的工作是否满意？",
    "student": "你对我们学校在{}方面的做法满意吗？",
}


def plan_for_every_school() -> list[tuple[str, str | None, int]]:
    """Answers from every demo school: most with enough to rank, some with five (all 认可 there: 100%,
    an interval of 47.8%–100%), one with too few to show; and the county groups."""
    plan: list[tuple[str, str | None, int]] = [("deputy", None, 12), ("public", None, 15)]
    for k, school in enumerate(demo_schools()):
        if k % 7 == 6:
            plan.append(("parent", school.code, 3))
        elif k % 5 == 4:
            plan.append(("parent", school.code, 5))
        else:
            plan += [("parent", school.code, 30 + k % 5), ("student", school.code, 12), ("teacher", school.code, 8)]
    return plan


def answer_rows(survey_id: int, links: dict, questionnaires: dict[str, Questionnaire], plan, seed: int = 11):
    """Answers scored by the respondent path's own rule; the five-answer schools answer 满意 throughout."""
    rng = np.random.default_rng(seed)
    rows = []
    for group, school, count in plan:
        q = questionnaires[DEFAULT_QUESTIONNAIRES[Group(group)]]
        codes = [o.code for o in q.scale]
        p = np.array([0.5, 0.25, 0.12, 0.1, 0.03][: len(codes)])
        link, school_id = links[(group, school)]
        for _ in range(count):
            chosen = (
                [0] * len(q.rated_items) if count == 5 else rng.choice(len(codes), len(q.rated_items), p=p / p.sum())
            )
            scored = check_answers(q, {item.id: codes[c] for item, c in zip(q.rated_items, chosen)})
            rows.append(
                [
                    survey_id,
                    link,
                    school_id,
                    group,
                    q.id,
                    q.version,
                    msgspec.json.encode(scored.answers).decode(),
                    scored.recognition,
                    scored.score,
                    scored.choices,
                    datetime(2030, 5, 10, 9, 30, tzinfo=UTC),
                    95,
                    uuid.uuid4().hex,
                    True,
                    "",
                ]
            )
    return rows


async def report_pages(settings, questionnaires: dict[str, Questionnaire]) -> tuple[int, dict[str, tuple[str, bytes]]]:
    """The demo round with answers from every school; its report and results pages and their CSS, as
    the bureau's browser receives them."""
    engine = bind(make_engine(settings))
    await open_pool(engine)
    try:
        survey_id = await ensure_demo_round(questionnaires)
        await add_account(AccountSpec(username="chief", role=Role.bureau, school_code=None, password=PASSWORD))
    finally:
        await close_pool(engine)
    found = await fetch(
        settings,
        "SELECT link.id AS link, link.school AS school, school.code AS code, link.respondent_group AS grp "
        "FROM link LEFT JOIN school ON school.id = link.school WHERE link.survey = ?",
        survey_id,
    )
    links = {(row["grp"], row["code"]): (row["link"], row["school"]) for row in found}
    await insert_responses(settings, COLUMNS, answer_rows(survey_id, links, questionnaires, plan_for_every_school()))

    from survey_service.app import create_app

    pages: dict[str, tuple[str, bytes]] = {}
    async with AsyncTestClient(app=create_app(settings), base_url=BASE) as client:
        await login(client, "chief")
        for path in (
            f"/console/rounds/{survey_id}/report",
            f"/console/rounds/{survey_id}/results",
            "/static/console/console.css",
            "/static/console/results.css",
        ):
            response = await client.get(path)
            assert response.status_code == 200, path
            pages[path] = (response.headers["content-type"], response.content)
    return survey_id, pages


def printed(browser, pages: dict[str, tuple[str, bytes]], path: str, name: str) -> tuple[list[str], str]:
    """The page printed to an A4 PDF by Chromium: the text of each page (pdftotext), and the HTML."""
    asked: list[str] = []
    context = browser.new_context()
    page = context.new_page()

    def serve(route):
        url = route.request.url
        asked.append(url)
        found = pages.get(urlsplit(url).path) if url.startswith(BASE) else None
        if found is None:
            route.abort()
        else:
            route.fulfill(status=200, content_type=found[0], body=found[1])

    page.route("**/*", serve)
    page.goto(BASE + path)
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    context.close()
    assert all(urlsplit(url).path in pages for url in asked), asked  # no web font, nothing from outside
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / f"{name}.pdf"
    out.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-raw", str(out), "-"], capture_output=True, check=True, text=True).stdout
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(out), str(ARTIFACTS / name)], check=True)
    return text.split("\f")[:-1], pages[path][1].decode()


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def headings(html: str) -> set[str]:
    return {squeezed(re.sub(r"<[^>]+>", "", h)) for h in re.findall(r"<h[123][^>]*>(.*?)</h[123]>", html, re.S)}


def check_report(pages: list[str], html: str, questionnaires: dict[str, Questionnaire]) -> None:
    whole = squeezed("".join(pages))
    for school in demo_schools():
        assert squeezed(school.name) in whole, school.name
    for q in questionnaires.values():
        for item in q.rated_items:
            assert squeezed(item.text) in whole, (q.id, item.text)
    # Schools ranked by the adjusted figure (issue 14; before it, those with wide intervals as 样本不足), explained.
    for text in ("填报单位", "负责人", "日期", "盖章", "报告日期", "数据截至", "调整后认可度", "有效样本量"):
        assert text in whole, text
    assert "学校排名：调整后认可度" in whole and "Fay–Herriot" in whole
    assert re.search(r"单侧检验p(<0\.001|=0\.\d{3}|>0\.999)", whole)
    assert "e-" not in whole and "e+" not in whole  # no number in exponent notation
    for k, page in enumerate(pages, start=1):
        assert f"第{k}页，共{len(pages)}页" in squeezed(page), k
    raw = "\n".join(pages)
    assert not IDENTIFIER.findall(raw), IDENTIFIER.findall(raw)
    assert not ENGLISH_SENTENCE.findall(raw), ENGLISH_SENTENCE.findall(raw)
    # No heading stranded at a page's foot: the last line above the page number is never a heading.
    titles = headings(html)
    for k, page in enumerate(pages[:-1], start=1):
        lines = [squeezed(line) for line in page.splitlines() if line.strip() and not line.strip().startswith("第 ")]
        assert lines and lines[-1] not in titles, (k, lines[-1])


def prepared(settings, questionnaires: dict[str, Questionnaire]) -> tuple[int, dict[str, tuple[str, bytes]]]:
    """report_pages on an event loop of its own, in a thread: Playwright's sync API keeps a loop
    running in this one."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, report_pages(settings, questionnaires)).result()


@pytest.fixture
def browser():
    """A browser of each test's own: a module-wide one keeps an event loop running in this thread,
    which the next test's database fixture (asyncio.run, on PostgreSQL) would meet."""
    with chromium() as launched:
        yield launched


def test_the_printed_report_of_the_demo_round(settings, request):
    questionnaires = load_questionnaires(questionnaires_dir())
    survey_id, pages = prepared(settings, questionnaires)
    # The browser after the database: its event loop would refuse the settings fixture's asyncio.run.
    text, html = printed(
        request.getfixturevalue("browser"), pages, f"/console/rounds/{survey_id}/report", "report-demo"
    )
    check_report(text, html, questionnaires)


def eighteen_item_questionnaires(directory: Path) -> Path:
    """学生卷, 校长教师卷 and 社会卷 with 18 rated items each: the same ids, each worded its own way."""
    directory.mkdir()
    ids = [f"topic_{chr(ord('a') + k)}" for k in range(len(TOPICS))]
    for qid, voice in VOICES.items():
        data = tomllib.loads((questionnaires_dir() / f"{qid}.toml").read_text(encoding="utf-8"))
        data.pop("translations", None)
        data.pop("overall_item", None)
        data["version"] = "test-18"
        data["items"] = [{"id": i, "text": voice.format(topic)} for i, topic in zip(ids, TOPICS)]
        (directory / f"{qid}.toml").write_text(tomli_w.dumps(data), encoding="utf-8")
    return directory


def test_the_printed_report_of_a_round_with_18_items_per_questionnaire(settings, request, tmp_path, monkeypatch):
    directory = eighteen_item_questionnaires(tmp_path / "questionnaires")
    questionnaires = load_questionnaires(directory)
    assert {len(q.rated_items) for q in questionnaires.values()} == {18}
    monkeypatch.setattr("survey_service.app.questionnaires_dir", lambda: directory)
    survey_id, pages = prepared(settings, questionnaires)
    text, html = printed(
        request.getfixturevalue("browser"), pages, f"/console/rounds/{survey_id}/report", "report-18-items"
    )
    check_report(text, html, questionnaires)

    # One heatmap per questionnaire, its columns that questionnaire's 题1…题18, its texts its own.
    results = pages[f"/console/rounds/{survey_id}/results"][1].decode()
    sections = re.findall(r'<section class="card questionnaire".*?</section>', results, re.S)
    assert len(sections) == 3 and results.count('class="chart heat"') == 3
    for section, q in zip(sections, questionnaires.values()):
        assert [t for t in re.findall(r">题(\d+)</text>", section)] == [str(k) for k in range(1, 19)]
        listed = [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td data-value=\"[^\"]*\">(.*?)</td>", section)]
        assert [text for text in listed if text in {i.text for i in q.rated_items}] == [i.text for i in q.rated_items]
        others = {i.text for other in questionnaires.values() if other is not q for i in other.rated_items}
        assert not any(text in section for text in others)
