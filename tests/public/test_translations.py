"""A questionnaire may ship other languages than 简体中文; `?lang=` picks one of those, nothing else.

The right-to-left translation used here is tests/fixtures/translations/social.ug.toml: the 社会卷 in
Uyghur (Arabic script), a test translation reviewed by no native speaker, never shipped."""

from __future__ import annotations

import asyncio
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from litestar.testing import AsyncTestClient

from support.browser import ARTIFACTS, PHONE, chromium
from support.helpers import link_for, nonce_of, token_of
from survey_service.core.groups import Group
from survey_service.core.resources import questionnaires_dir
from survey_service.distribution.service import LinkContext
from survey_service.public.views import link_form
from survey_service.questionnaire import QuestionnaireError, load_questionnaire, load_questionnaires
from survey_service.questionnaire.languages import Direction, page_language, tag_direction

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "translations" / "social.ug.toml"
BASE = "http://survey.test"
INJECTION = '"><script>alert(1)</script>'


def with_test_translation(directory: Path, text: str | None = None, name: str = "social.ug.toml") -> Path:
    """The shipped questionnaires and, beside the 社会卷, a translation file (the test one unless given)."""
    directory.mkdir(exist_ok=True)
    for path in questionnaires_dir().glob("*.toml"):
        shutil.copy(path, directory)
    (directory / name).write_text(FIXTURE.read_text(encoding="utf-8") if text is None else text, encoding="utf-8")
    return directory


def without_line(text: str, start: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith(start)) + "\n"


def a_link() -> LinkContext:
    now = datetime.now(UTC)
    return LinkContext(
        token="t",
        link_id=1,
        survey_id=1,
        survey_title="调查",
        region="县",
        opens_at=now,
        closes_at=now,
        school_id=None,
        school_code=None,
        school_name=None,
        group=Group.public,
        questionnaire_id="social",
    )


# Loading: a translation is complete and names its direction, or the file is refused.


def test_the_test_translation_loads_beside_the_questionnaire_and_is_right_to_left(tmp_path):
    social = load_questionnaires(with_test_translation(tmp_path / "q"))["social"]
    assert list(social.translations) == ["ug"]
    chosen = page_language(social, "ug").current
    assert (chosen.tag, chosen.name, chosen.direction) == ("ug", "ئۇيغۇرچە", Direction.rtl)
    # The shipped questionnaires carry no translation: 简体中文 only.
    assert all(not q.translations for q in load_questionnaires(questionnaires_dir()).values())


def test_a_translation_missing_an_item_or_an_option_is_refused_naming_them(tmp_path):
    text = without_line(without_line(FIXTURE.read_text(encoding="utf-8"), "overall ="), "unknown =")
    directory = with_test_translation(tmp_path / "q", text)
    with pytest.raises(QuestionnaireError) as refused:
        load_questionnaires(directory)
    message = str(refused.value)
    assert message.startswith("social.ug.toml: ")
    assert "missing translations of items ['overall'] - at `$.items`" in message
    assert "missing translations of options ['unknown'] - at `$.options`" in message


def test_a_translation_table_inside_the_questionnaire_file_is_checked_the_same_way(tmp_path):
    path = tmp_path / "social.toml"
    table = "[translations.ug]\n" + FIXTURE.read_text(encoding="utf-8").replace("[items]", "[translations.ug.items]")
    table = table.replace("[options]", "[translations.ug.options]")
    path.write_text((questionnaires_dir() / "social.toml").read_text(encoding="utf-8") + table, encoding="utf-8")
    assert page_language(load_questionnaire(path), "ug").current.direction is Direction.rtl
    path.write_text(without_line(path.read_text(encoding="utf-8"), 'title = "ناھىيە'), encoding="utf-8")
    with pytest.raises(QuestionnaireError, match=r"missing `title` - at `\$\.translations\.ug\.title`"):
        load_questionnaire(path)


@pytest.mark.parametrize(
    ("name", "edit", "problem"),
    [
        # Kyrgyz: Arabic script in Kizilsu, Cyrillic in Kyrgyzstan. The tag alone cannot say.
        ("social.ky.toml", lambda t: t, "`ky` is written in more than one script"),
        ("social.ug.toml", lambda t: 'direction = "ltr"\n' + t, "`ug` is written rtl, not ltr"),
        ("social.xx_1.toml", lambda t: t, "`xx_1` is not a language tag"),
        ("social.zh-CN.toml", lambda t: t, "the questionnaire's own language"),
        ("socail.ug.toml", lambda t: t, "a translation of no questionnaire file"),
        # The Chinese pasted in as the "translation" of an item.
        (
            "social.ug.toml",
            lambda t: re.sub(r"(?m)^overall = .*$", 'overall = "总体而言，您是否满意？"', t),
            "no rtl letter",
        ),
        ("social.ug.toml", lambda t: t.replace("overall = ", "overal = "), "unknown items ['overal']"),
    ],
)
def test_a_translation_with_a_wrong_tag_or_direction_is_refused(tmp_path, name, edit, problem):
    text = edit(FIXTURE.read_text(encoding="utf-8"))
    directory = with_test_translation(tmp_path / "q", text, name)
    with pytest.raises(QuestionnaireError, match=re.escape(problem)):
        load_questionnaires(directory)


def test_directions_come_from_the_script_or_the_language():
    assert tag_direction("ug") is tag_direction("ky-Arab") is tag_direction("kk-Arab-CN") is Direction.rtl
    assert tag_direction("ky-Cyrl") is tag_direction("bo") is tag_direction("en") is Direction.ltr
    assert tag_direction("ky") is None and tag_direction("kk") is None


def test_a_ky_arab_file_or_a_declared_direction_is_accepted(tmp_path):
    directory = with_test_translation(tmp_path / "q", name="social.ky-Arab.toml")
    text = 'direction = "rtl"\n' + FIXTURE.read_text(encoding="utf-8")
    (directory / "social.kk.toml").write_text(text, encoding="utf-8")
    social = load_questionnaires(directory)["social"]
    assert {tag: page_language(social, tag).current.direction for tag in social.translations} == {
        "kk": Direction.rtl,
        "ky-Arab": Direction.rtl,
    }


# Choosing: only a shipped translation; anything else is 简体中文.


def test_the_form_is_shown_in_a_shipped_language_and_in_chinese_otherwise(tmp_path):
    social = load_questionnaires(with_test_translation(tmp_path / "q"))["social"]
    uyghur = link_form(a_link(), social, "nonce", "UG")
    assert uyghur.language.tag == "ug" and uyghur.language.direction == "rtl"
    assert uyghur.title.startswith("ناھىيەلىك")
    items = {item.id: item for item in uyghur.items}
    assert items["overall"].text.startswith("ئومۇمىي جەھەتتىن")
    assert [o.label for o in items["overall"].options][:2] == ["رازى", "بىر قەدەر رازى"]
    assert [language.tag for language in uyghur.languages] == ["zh-CN", "ug"]
    for asked in (None, "", "zh-CN", "ar", "ug-x", INJECTION):
        chinese = link_form(a_link(), social, "nonce", asked)
        assert chinese.language.tag == "zh-CN" and chinese.language.direction == "ltr"
        assert chinese.title == social.title
        assert {item.id: item for item in chinese.items}["overall"].options[0].label == "满意"


async def test_an_unshipped_language_gives_the_chinese_page_left_to_right(client, demo_links):
    """The shipped questionnaires have no Uyghur: ?lang=ug is 简体中文, never dir="rtl"."""
    token = token_of(link_for(demo_links, "parent"))
    for asked in ("ug", "ar", "xx", INJECTION):
        page = await client.get(f"/s/{token}", params={"lang": asked})
        assert page.status_code == 200
        assert '<html lang="zh-CN">' in page.text
        assert not re.search(r'<[^>]* dir="rtl"', page.text)
        assert INJECTION not in page.text and "alert(1)" not in page.text
        assert "?lang=" not in page.text and 'name="_lang"' not in page.text  # nothing else to offer
    api = (await client.get(f"/api/v1/links/{token}", params={"lang": "ug"})).json()
    assert api["language"] == {"tag": "zh-CN", "name": "简体中文", "direction": "ltr"}
    assert api["languages"] == [api["language"]]


@pytest.fixture
async def translated(demo_links, settings, tmp_path, monkeypatch):
    """The app with the test Uyghur translation beside the 社会卷."""
    from survey_service.app import create_app

    directory = with_test_translation(tmp_path / "questionnaires")
    monkeypatch.setattr("survey_service.app.questionnaires_dir", lambda: directory)
    async with AsyncTestClient(app=create_app(settings), base_url=BASE) as test_client:
        yield test_client


async def test_a_shipped_translation_is_offered_and_shown_right_to_left(translated, demo_links):
    token = token_of(link_for(demo_links, "parent"))
    chinese = (await translated.get(f"/s/{token}")).text
    assert '<html lang="zh-CN">' in chinese
    assert re.findall(r'<a href="(\?lang=[^"]*)"[^>]*>([^<]*)</a>', chinese) == [("?lang=ug", "ئۇيغۇرچە")]
    page = await translated.get(f"/s/{token}", params={"lang": "ug"})
    assert '<html lang="ug" dir="rtl">' in page.text
    assert re.findall(r'<a href="(\?lang=[^"]*)"[^>]*>([^<]*)</a>', page.text) == [("?lang=zh-CN", "简体中文")]
    assert '<input type="hidden" name="_lang" value="ug">' in page.text
    assert "رازىمۇسىز؟" in page.text and "满意" not in page.text
    # One request, no font: the Chinese page within 16 KB; Uyghur words take more bytes than
    # Chinese ones (18 KB here: 9 KB of text), the markup around them is the same.
    assert len(chinese.encode()) <= 16 * 1024 and len(page.content) <= 20 * 1024
    # The form sent back with a problem stays in Uyghur, right to left; a forged _lang is 简体中文.
    form = {"_nonce": nonce_of(page.text), "_lang": "ug", "moral_education": "satisfied"}
    again = await translated.post(f"/s/{token}", data=form)
    assert again.status_code == 422 and '<html lang="ug" dir="rtl">' in again.text
    assert 'role="alert"' in again.text
    form["_lang"] = INJECTION
    forged = await translated.post(f"/s/{token}", data=form)
    assert '<html lang="zh-CN">' in forged.text and "alert(1)" not in forged.text
    # Students are asked the 学生卷, which has no translation: 简体中文.
    student = await translated.get(f"/s/{token_of(link_for(demo_links, 'student'))}", params={"lang": "ug"})
    assert '<html lang="zh-CN">' in student.text and "?lang=" not in student.text


# In the browser: the right-to-left page on a phone.


def rendered(settings, directory: Path, monkeypatch) -> tuple[str, dict[str, str], bytes]:
    """The parent's answer page in Uyghur, as the app serves it (path, headers, body); on an event
    loop of its own, in a thread: Playwright's sync API keeps a loop running in this one."""
    from survey_service.app import create_app
    from survey_service.db.engine import bind, close_pool, make_engine, open_pool
    from survey_service.demo.service import ensure_demo_round
    from survey_service.distribution.service import list_links

    monkeypatch.setattr("survey_service.app.questionnaires_dir", lambda: directory)

    async def get() -> tuple[str, dict[str, str], bytes]:
        engine = bind(make_engine(settings))
        await open_pool(engine)
        try:
            survey_id = await ensure_demo_round(load_questionnaires(directory))
            links = await list_links(survey_id, settings.public_url)
        finally:
            await close_pool(engine)
        path = f"/s/{token_of(link_for(links, 'parent'))}"
        async with AsyncTestClient(app=create_app(settings), base_url=BASE) as client:
            page = await client.get(path, params={"lang": "ug"})
            assert page.status_code == 200
            # httpx has undone any compression already.
            kept = {k: v for k, v in page.headers.items() if k not in ("content-encoding", "content-length")}
            return path, kept, page.content

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, get()).result()


# Where the question number is beside its text, and how far each radio is from its words.
MEASURE = """() => {
  const box = (r) => ({left: r.left, right: r.right, top: r.top, bottom: r.bottom});
  const textBox = (node) => { const range = document.createRange(); range.selectNodeContents(node);
    return box(range.getClientRects()[0]); };
  const legends = [...document.querySelectorAll('fieldset legend .n')].map((number) => (
    {number: box(number.getBoundingClientRect()), text: textBox(number.nextSibling)}));
  const options = [...document.querySelectorAll('label:has(input[type=radio])')].map((label) => ({
    radio: box(label.querySelector('input').getBoundingClientRect()),
    text: textBox(label.querySelector('span') || [...label.childNodes].find((n) => n.nodeType === Node.TEXT_NODE)),
  }));
  return {legends, options, width: document.documentElement.scrollWidth};
}"""


def test_the_right_to_left_page_on_a_phone(settings, tmp_path, monkeypatch):
    from axe_playwright_python.sync_playwright import Axe

    path, headers, body = rendered(settings, with_test_translation(tmp_path / "questionnaires"), monkeypatch)
    with chromium() as browser:
        context = browser.new_context(**PHONE)
        page = context.new_page()
        asked: list[str] = []

        def serve(route):
            asked.append(route.request.url)
            if urlsplit(route.request.url).path == path:
                route.fulfill(status=200, headers=headers, body=body)
            else:
                route.abort()

        page.route("**/*", serve)
        blocked: list[str] = []
        page.on("console", lambda message: blocked.append(message.text) if "Content Security" in message.text else None)
        page.goto(f"{BASE}{path}?lang=ug")
        assert asked == [f"{BASE}{path}?lang=ug"]  # one request: no font, no stylesheet
        assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["ug", "rtl"]
        assert blocked == []  # the inline style passes the CSP
        assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
        measured = page.evaluate(MEASURE)
        assert measured["width"] <= 360  # no sideways scrolling
        assert len(measured["legends"]) == 14 and len(measured["options"]) == 13 * 5
        for legend in measured["legends"]:
            # The number starts the line on the right, the words follow to its left.
            assert legend["number"]["left"] >= legend["text"]["right"] - 0.5, legend
            assert abs(legend["number"]["top"] - legend["text"]["top"]) < 12, legend
        for option in measured["options"]:
            # The radio on the right of its words, with room between them.
            assert option["radio"]["left"] - option["text"]["right"] >= 4, option
        violations = Axe().run(page).response["violations"]
        assert [f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}" for v in violations] == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "answer-page-rtl-phone.png"), full_page=True)
        page.screenshot(path=str(ARTIFACTS / "answer-page-rtl-phone-top.png"))
        # Answered: the chosen option marked; a progress bar, if the page shows one, grows from the right.
        page.locator("fieldset").nth(1).get_by_text("بىر قەدەر رازى", exact=True).tap()
        page.locator("fieldset").nth(2).get_by_text("رازى", exact=True).tap()
        bar = page.locator("#prog i")
        if bar.count():
            track, filled = page.locator("#prog").bounding_box(), bar.bounding_box()
            assert (
                0 < filled["width"] < track["width"]
                and abs(track["x"] + track["width"] - filled["x"] - filled["width"]) < 1
            )
        page.locator("fieldset").nth(1).scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "answer-page-rtl-phone-answered.png"))
        context.close()
