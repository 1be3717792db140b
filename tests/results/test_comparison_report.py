"""与上一轮对比 from the database: `report --compare ID` in Markdown, JSON and XLSX, the JSON results
API and the round's stored 对比轮次; every bad choice (an unknown round, the round itself, a round of
another county, a later round) is a Chinese message, never a 5xx, and changes nothing."""

from __future__ import annotations

import asyncio
import io
import json
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import openpyxl
import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from support.console_session import login, post_form
from support.respondents import random_respondents, store
from survey_service.accounts.service import set_bureau_password
from survey_service.app import create_app
from survey_service.cli import main
from survey_service.core.resources import questionnaires_dir
from survey_service.db.engine import bind, close_pool, make_engine, open_pool
from survey_service.demo.county import demo_schools
from survey_service.demo.previous import ensure_previous_demo_round
from survey_service.demo.service import ensure_demo_round
from survey_service.questionnaire import load_questionnaires
from survey_service.surveys.schemas import RoundSpec
from survey_service.surveys.service import create_round

PASSWORD = "bureau-pass-1"


@pytest.fixture
def rounds(settings) -> dict[str, int]:
    """The demo round with 400 stored answers, last year's demo round (its 对比轮次, simulated answers),
    and a round of another county."""

    async def prepare() -> dict[str, int]:
        engine = bind(make_engine(settings))
        await open_pool(engine)
        try:
            questionnaires = load_questionnaires(questionnaires_dir())
            current = await ensure_demo_round(questionnaires)
            codes = [s.code for s in demo_schools()]
            await store(settings, current, random_respondents(np.random.default_rng(5), 400, codes))
            previous, _ = await ensure_previous_demo_round(settings, current, questionnaires)
            now = datetime.now(UTC)
            other = await create_round(
                RoundSpec(title="另一县的调查", region="某某县", opens_at=now - timedelta(days=400), closes_at=now),
                questionnaires,
            )
            await set_bureau_password("admin", PASSWORD)
        finally:
            await close_pool(engine)
        return {"current": current, "previous": previous, "other": other}

    return asyncio.run(prepare())


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_report_compare_json_is_the_difference_of_the_two_rounds(settings, rounds):
    db = ["--db", settings.database_url]
    now = json.loads(run("report", *db, "--survey", str(rounds["current"]), "--format", "json").stdout)
    before = json.loads(run("report", *db, "--survey", str(rounds["previous"]), "--format", "json").stdout)
    assert before["comparison"] is None  # last year's round names no earlier one
    c = now["comparison"]
    # The demo names last year's round as the open round's 对比轮次: the report compares without --compare.
    assert c["previous_round"] == rounds["previous"]
    explicit = json.loads(run("report", *db, "--compare", str(rounds["previous"]), "--format", "json").stdout)
    assert explicit["comparison"] == c  # the newest round is the open one, not last year's
    o = c["overall"]
    assert o["current"] == now["overall"]["estimate"] and o["previous"] == before["overall"]["estimate"]
    assert o["difference"] == pytest.approx(now["overall"]["estimate"] - before["overall"]["estimate"], abs=1e-15)
    assert o["se"] == pytest.approx(math.hypot(now["overall"]["se"], before["overall"]["se"]), rel=1e-12)
    assert o["df"] == now["overall"]["df"] + before["overall"]["df"]
    assert o["verdict"] in ("rise", "no_change", "fall")
    groups = {g["key"]: g for g in c["groups"]}
    assert set(groups) == set(now["groups"])
    assert groups["parent"]["se"] == pytest.approx(
        math.hypot(now["groups"]["parent"]["se"], before["groups"]["parent"]["se"]), rel=1e-12
    )
    assert {i["questionnaire"] for i in c["items"]} == {"social", "student", "staff"}
    assert all(i["verdict"] != "not_comparable" or i["reason"] in ("missing", "too_few") for i in c["items"])
    assert [p["round"] for p in c["trend"]] == [rounds["previous"], rounds["current"]]
    assert [p["current"] for p in c["trend"]] == [False, True]
    assert c["trend"][1]["estimate"] == now["overall"]["estimate"]


def test_report_compare_markdown_and_workbook(settings, rounds, tmp_path):
    db = ["--db", settings.database_url, "--survey", str(rounds["current"]), "--compare", str(rounds["previous"])]
    text = run("report", *db).stdout
    section = text[text.index("## 与上一轮对比") :]
    assert "全县社会认可度由" in section and "个百分点" in section
    for heading in ("### 总体与分群体", "### 分题目", "### 分学校", "### 历年趋势（本县各轮）"):
        assert heading in section
    assert "社会卷 题1" in section and "（演示·上一年度）" in section
    assert "homework_burden" not in section and "WQ01" not in section  # no internal id reaches a reader
    out = tmp_path / "report.xlsx"
    assert run("report", *db, "--format", "xlsx", "--out", str(out)).exit_code == 0
    book = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))
    sheet = list(book["与上一轮对比"].iter_rows(values_only=True))
    assert sheet[0][:5] == ("类别", "项目", "本轮认可度", "上一轮认可度", "变化（本轮−上一轮）")
    assert sheet[1][0] == "总体" and sheet[1][-1] in ("显著提高", "无显著变化", "显著下降")
    assert {row[0] for row in sheet[1:]} == {"总体", "分群体", "分题目", "分学校"}
    trend = list(book["历年趋势"].iter_rows(values_only=True))
    assert len(trend) == 3 and trend[2][-1] == "本轮" and trend[1][-1] == "对比轮次"


def test_bad_comparisons_are_refused_in_chinese(settings, rounds):
    db = ["--db", settings.database_url, "--survey", str(rounds["current"])]
    cases = {
        "99": "找不到编号为 99 的调查轮次",
        "99999999999999": "找不到编号为 99999999999999 的调查轮次",
        str(rounds["current"]): "不能与本轮自身对比",
        str(rounds["other"]): "只能与同一地区的轮次对比",
    }
    for given, message in cases.items():
        got = run("report", *db, "--compare", given)
        assert got.exit_code == 1 and message in got.output and "Traceback" not in got.output, given
    later = run("report", "--db", settings.database_url, "--survey", str(rounds["previous"]), "--compare", "1")
    assert later.exit_code == 1 and "开始于本轮之后" in later.output


async def test_the_console_and_the_api_refuse_bad_choices_without_a_5xx(settings, rounds):
    current, previous = rounds["current"], rounds["previous"]
    async with AsyncTestClient(app=create_app(settings), base_url="http://survey.test") as client:
        await login(client, "admin", PASSWORD)
        api = f"/api/v1/surveys/{current}/results"
        for given, status, message in [
            (str(current), 422, "不能与本轮自身对比"),
            (str(rounds["other"]), 422, "同一地区"),
            ("424242", 404, "找不到编号为 424242"),
            ("99999999999999999999", 404, "找不到编号"),
            ("abc", 400, ""),
        ]:
            got = await client.get(api, params={"compare": given})
            assert got.status_code == status and message in got.json()["message"], (given, got.text)
        assert (await client.get(api)).json()["comparison"]["previous_round"] == previous
        page = f"/console/rounds/{current}/previous"
        for given, status, message in [
            (str(current), 422, "不能与本轮自身对比"),
            (str(rounds["other"]), 422, "只能与同一地区的轮次对比"),
            ("424242", 404, "找不到编号为 424242"),
            ("9" * 40, 404, "找不到编号"),
            ("第二轮", 422, "请从列表中选择对比轮次"),
        ]:
            got = await post_form(client, page, {"previous_round": given})
            assert got.status_code == status and message in got.text, (given, got.status_code)
        # Nothing changed: the stored choice stands and the change log has only the demo's entry.
        round_page = (await client.get(f"/console/rounds/{current}")).text
        assert round_page.count("对比轮次改为") == 1
        got = await post_form(client, page, {"previous_round": ""})
        assert got.status_code == 303
        assert (await client.get(api)).json()["comparison"] is None
        assert "不再与其他轮次对比" in (await client.get(f"/console/rounds/{current}")).text
