"""A 校长 on a phone (Chromium, 360×740) and one-time access codes, against `survey-service serve
--workers 2` on each backend: without a code nothing is stored, with one one answer, the same code
again is refused. And the same code fired at the two web workers from many requests at once: one stored."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from support.access_codes import issue
from support.browser import ARTIFACTS, PHONE, chromium
from support.helpers import fetch, filled_form, free_port, running, wait_for_health
from survey_service.respond import access

SECRET = "access-code-browser-test-secret-0123456789"


def call(coroutine):
    """Run a coroutine on a loop of its own (Playwright's sync API holds this thread's)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


@contextlib.contextmanager
def served(settings, directory: Path, workers: int) -> Iterator[str]:
    """The demo round (no answers) in the test's database, served by `workers` web workers."""
    env = {"SURVEY_DATABASE_URL": settings.database_url, "SURVEY_SECRET": SECRET}
    base = {k: v for k, v in os.environ.items() if not k.startswith("SURVEY_")}
    subprocess.run(
        [sys.executable, "-m", "survey_service", "demo", "--no-serve", "--empty", "--admin-password", "x" * 16],
        env=base | env,
        cwd=directory,
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    with running(["serve", "--port", str(port), "--workers", str(workers)], directory, env) as server:
        wait_for_health(port, server)
        yield f"http://127.0.0.1:{port}"


def principal_token(settings) -> str:
    rows = call(
        fetch(
            settings,
            "SELECT l.token FROM link l JOIN school s ON s.id = l.school "
            "WHERE s.code = 'WQ01' AND l.respondent_group = 'principal'",
        )
    )
    return rows[0]["token"]


def principal_answers(settings, token: str) -> list[dict]:
    return call(
        fetch(
            settings,
            "SELECT r.access_code_hash FROM response r JOIN link l ON l.id = r.link WHERE l.token = ?",
            token,
        )
    )


def answer_all(page) -> None:
    for fieldset in page.locator("fieldset:has(input[type=radio])").all():
        fieldset.get_by_text("满意", exact=True).tap()


def test_a_principal_needs_a_code_on_the_phone_and_each_code_stores_one_answer(settings, tmp_path):
    code_settings = settings.with_changes(secret=SECRET)
    # Chromium after the database is ready: Playwright's sync API holds an event loop on this thread.
    with served(settings, tmp_path, workers=2) as base, chromium() as browser:
        token = principal_token(settings)
        [code] = call(issue(code_settings, token))
        context = browser.new_context(**PHONE)
        page = context.new_page()
        page.goto(f"{base}/s/{token}")
        field = page.get_by_label("访问码")
        assert field.is_visible() and field.bounding_box()["width"] >= 300
        assert page.get_by_text("一码一人，仅可提交一次").is_visible()

        # Without a code (as an old browser that skips `required` would send it): nothing stored.
        answer_all(page)
        page.locator("form").evaluate("form => { form.noValidate = true; }")
        page.get_by_role("button", name="提交问卷").tap()
        page.locator("#e-access_code").wait_for()
        assert page.locator("#q-access_code.bad").is_visible()
        assert access.MISSING in page.locator("#e-access_code").inner_text()
        assert principal_answers(settings, token) == []

        # With the code, typed in lower case with a space: one answer stored.
        page.get_by_label("访问码").fill(code.lower().replace("-", " "))
        page.get_by_role("button", name="提交问卷").tap()
        page.wait_for_url("**/thanks**")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"access-code-thanks-{'pg' if settings.is_postgres else 'sqlite'}.png"))
        assert len(principal_answers(settings, token)) == 1
        context.close()

        # Another phone with the same code: refused, nothing more stored.
        other = browser.new_context(**PHONE)
        page = other.new_page()
        page.goto(f"{base}/s/{token}")
        page.get_by_label("访问码").fill(code)
        answer_all(page)
        page.get_by_role("button", name="提交问卷").tap()
        page.locator("#e-access_code").wait_for()
        assert access.USED in page.locator("#e-access_code").inner_text()
        assert page.get_by_label("访问码").input_value() == code
        page.screenshot(path=str(ARTIFACTS / "access-code-used-phone.png"), full_page=True)
        assert len(principal_answers(settings, token)) == 1
        other.close()


async def fire(base: str, token: str, code: str, count: int) -> list[int]:
    """`count` people open the form and all submit one code at the same moment."""
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=count)) as http:
        pages = [(await http.get(f"/s/{token}")).text for _ in range(count)]
        http.cookies.clear()
        forms = [filled_form(page, access_code=code) for page in pages]

        async def send(form: dict) -> int:
            headers = {"cookie": f"sv_device={uuid.uuid4().hex}"}
            return (await http.post(f"/s/{token}", data=form, headers=headers)).status_code

        return await asyncio.gather(*(send(form) for form in forms))


def test_one_code_fired_at_two_workers_at_once_stores_one_answer(settings, tmp_path):
    """On PostgreSQL each worker commits its own batches; on SQLite both hand them to the writer process."""
    with served(settings, tmp_path, workers=2) as base:
        token = principal_token(settings)
        code_settings = settings.with_changes(secret=SECRET)
        for _ in range(3):  # three codes, each fired from 24 requests at once
            [code] = call(issue(code_settings, token))
            statuses = asyncio.run(fire(base, token, code, 24))
            assert sorted(statuses).count(303) == 1, statuses
            assert set(statuses) == {303, 422}
        rows = principal_answers(settings, token)
        assert len(rows) == 3 and len({row["access_code_hash"] for row in rows}) == 3
