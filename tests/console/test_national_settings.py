"""迎检预判's two round settings (the national sample's group weighting and design effect): changed at any
time (before, during and after the round) on the round page's own form, not on the round form; refused in
Chinese when wrong (nothing changed), the bureau's alone, written to the change log (from → to) and the
sealed record (verify holds; a change made in the database directly is named), and used by the results."""

from __future__ import annotations

import asyncio
import html
import json
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import numpy as np
import pytest

from support.console_session import login, post_form
from support.helpers import fetch
from support.respondents import random_respondents, store
from support.verify_command import command, verify
from survey_service.demo.county import demo_schools

ROUND = {
    "title": "2027 年社会认可度调查",
    "region": "博湖县",
    "opens_at": "2030-05-10T08:00",
    "closes_at": "2030-05-15T20:00",
}
SETTINGS_SQL = "SELECT national_weighting, national_design_effect FROM survey WHERE id = ?"


class _FormValues(HTMLParser):
    """The values a browser would post from a page's form: inputs and each select's chosen option."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") and a.get("type") != "hidden":
            self.values[a["name"]] = html.unescape(a.get("value") or "")
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and (self._select not in self.values or "selected" in a):
            self.values[self._select] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def form_values(page: str) -> dict[str, str]:
    parser = _FormValues()
    parser.feed(page)
    return parser.values


async def new_form(console) -> dict[str, str]:
    """The new round form as the bureau fills it in: its defaults, with a name, a county and dates."""
    return form_values((await console.get("/console/rounds/new")).text) | ROUND


async def new_round(console, **changes) -> int:
    response = await post_form(console, "/console/rounds", await new_form(console) | changes)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


NATIONAL = "/console/rounds/{}/national"
SEALED_SQL = "SELECT version, state, mac FROM sealed_state WHERE survey = ?"
LOG_SQL = "SELECT action, details, actor FROM round_change WHERE survey = ? ORDER BY id"


async def open_round(console, survey_id: int) -> None:
    assert (await post_form(console, f"/console/rounds/{survey_id}/open")).status_code == 303


async def close_round(console, survey_id: int) -> None:
    fields = {"reason": "回收完成", "confirm": "结束"}
    assert (await post_form(console, f"/console/rounds/{survey_id}/close", fields)).status_code == 303


async def round_in(console, status: str) -> int:
    """A round made on the console form, then opened (and closed) through the console as well."""
    survey_id = await new_round(console)
    if status in ("open", "closed"):
        await open_round(console, survey_id)
    if status == "closed":
        await close_round(console, survey_id)
    page = (await console.get(f"/console/rounds/{survey_id}")).text
    assert {"pending": "未开始", "open": "进行中", "closed": "已结束"}[status] in page
    return survey_id


async def test_the_round_form_no_longer_carries_them_and_keeps_them_when_saved(console, settings):
    """A new round starts with the defaults; saving the round form (before opening) never touches them,
    even when an old page still posts them."""
    await login(console, "chief")
    blank = form_values((await console.get("/console/rounds/new")).text)
    assert "national_weighting" not in blank and "national_design_effect" not in blank
    survey_id = await new_round(console, national_weighting="round", national_design_effect="3")
    assert await fetch(settings, SETTINGS_SQL, survey_id) == [
        {"national_weighting": "respondents", "national_design_effect": 1.0}
    ]
    saved = await post_form(
        console, NATIONAL.format(survey_id), {"national_weighting": "round", "national_design_effect": "2"}
    )
    assert saved.status_code == 303
    edit = (await console.get(f"/console/rounds/{survey_id}/edit")).text
    assert "国家样本的设计效应" not in form_values(edit) and "“迎检预判设置”中随时可以修改" in edit
    fields = form_values(edit) | {"title": "新名称", "national_weighting": "respondents", "national_design_effect": "1"}
    assert (await post_form(console, f"/console/rounds/{survey_id}/edit", fields)).status_code == 303
    assert await fetch(settings, SETTINGS_SQL, survey_id) == [
        {"national_weighting": "round", "national_design_effect": 2.0}
    ]
    page = (await console.get(f"/console/rounds/{survey_id}")).text
    assert "修改了标题" in page and "修改了标题、" not in page
    checked = await asyncio.to_thread(verify, settings)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("status", ["pending", "open", "closed"])
async def test_the_bureau_changes_them_on_the_round_page_at_any_time(console, settings, status):
    await login(console, "chief")
    survey_id = await round_in(console, status)
    page = (await console.get(f"/console/rounds/{survey_id}")).text
    assert "迎检预判：国家评估组样本的群体权重按答卷人数（默认），国家样本的设计效应 1。" in page
    shown = form_values(page)
    assert shown["national_weighting"] == "respondents" and shown["national_design_effect"] == "1"

    saved = await post_form(
        console, NATIONAL.format(survey_id), {"national_weighting": "round", "national_design_effect": "1.5"}
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"/console/rounds/{survey_id}#national"
    assert await fetch(settings, SETTINGS_SQL, survey_id) == [
        {"national_weighting": "round", "national_design_effect": 1.5}
    ]
    page = (await console.get(f"/console/rounds/{survey_id}")).text
    assert "迎检预判：国家评估组样本的群体权重按本轮群体权重，国家样本的设计效应 1.5。" in page
    shown = form_values(page)
    assert shown["national_weighting"] == "round" and shown["national_design_effect"] == "1.5"

    # Empty: each group's design effect in this round (stored as NULL), shown empty again.
    fields = {"national_weighting": "round", "national_design_effect": ""}
    assert (await post_form(console, NATIONAL.format(survey_id), fields)).status_code == 303
    assert (await fetch(settings, SETTINGS_SQL, survey_id))[0]["national_design_effect"] is None
    page = (await console.get(f"/console/rounds/{survey_id}")).text
    assert form_values(page)["national_design_effect"] == ""
    assert "国家样本的设计效应取本轮各群体的设计效应（不小于 1）。" in page
    # The same values again: nothing to log.
    assert (await post_form(console, NATIONAL.format(survey_id), fields)).status_code == 303

    log = [row for row in await fetch(settings, LOG_SQL, survey_id) if row["action"] == "national"]
    assert log == [
        {
            "action": "national",
            "details": "迎检预判的群体权重：按答卷人数（默认） → 按本轮群体权重；迎检预判的设计效应：1 → 1.5。",
            "actor": "chief",
        },
        {
            "action": "national",
            "details": "迎检预判的设计效应：1.5 → 取本轮各群体的设计效应（不小于 1）。",
            "actor": "chief",
        },
    ]
    assert "迎检预判设置" in page and log[1]["details"] in page
    checked = await asyncio.to_thread(verify, settings)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"national_weighting": "nationwide"}, "请选择迎检预判的群体权重：按答卷人数，或按本轮群体权重。"),
        ({"national_weighting": ""}, "请选择迎检预判的群体权重：按答卷人数，或按本轮群体权重。"),
        ({"national_design_effect": "0.5"}, "设计效应应在 1 到 10 之间。"),
        ({"national_design_effect": "11"}, "设计效应应在 1 到 10 之间。"),
        ({"national_design_effect": "很大"}, "设计效应必须是数字。"),
        ({"national_design_effect": "nan"}, "设计效应必须是数字。"),
        ({"national_design_effect": "1e999"}, "设计效应必须是数字。"),
        ({"national_design_effect": "9" * 400}, "设计效应必须是数字。"),
    ],
)
async def test_a_bad_value_is_refused_in_chinese_and_changes_nothing(console, settings, fields, message):
    await login(console, "chief")
    survey_id = await round_in(console, "closed")
    before = [
        await fetch(settings, sql, survey_id) for sql in ("SELECT * FROM survey WHERE id = ?", LOG_SQL, SEALED_SQL)
    ]
    posted = {"national_weighting": "round", "national_design_effect": "2"} | fields
    refused = await post_form(console, NATIONAL.format(survey_id), posted)
    assert refused.status_code == 422 and message in refused.text and "没有做任何修改" in refused.text
    after = [
        await fetch(settings, sql, survey_id) for sql in ("SELECT * FROM survey WHERE id = ?", LOG_SQL, SEALED_SQL)
    ]
    assert after == before


async def test_only_the_bureau_may_change_them(console, settings, demo_links):
    survey_id = demo_links[0].survey
    before = await fetch(settings, SETTINGS_SQL, survey_id)
    fields = {"national_weighting": "round", "national_design_effect": "2"}
    await login(console, "op01")
    refused = await post_form(console, NATIONAL.format(survey_id), fields)
    assert refused.status_code == 403 and "没有做任何修改" in refused.text
    console.cookies.clear()
    await console.get("/console/login")
    anonymous = await post_form(console, NATIONAL.format(survey_id), fields)
    assert anonymous.status_code in (302, 303) and anonymous.headers["location"].startswith("/console/login")
    # The bureau's own post without its CSRF token.
    await login(console, "chief")
    forged = await console.post(NATIONAL.format(survey_id), data=fields, follow_redirects=False)
    assert forged.status_code == 403 and "安全校验未通过" in forged.text
    assert await fetch(settings, SETTINGS_SQL, survey_id) == before
    # An unknown round: not found, never a server error.
    for missing in (999_999, 99_999_999_999):
        assert (await post_form(console, NATIONAL.format(missing), fields)).status_code == 404


async def test_verify_names_a_national_setting_changed_outside_the_service(console, settings):
    await login(console, "chief")
    survey_id = await round_in(console, "closed")
    fields = {"national_weighting": "round", "national_design_effect": "2"}
    assert (await post_form(console, NATIONAL.format(survey_id), fields)).status_code == 303
    checked = await asyncio.to_thread(verify, settings)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    await fetch(settings, "UPDATE survey SET national_weighting = 'respondents' WHERE id = ?", survey_id)
    await fetch(settings, "UPDATE survey SET national_design_effect = 3 WHERE id = ?", survey_id)
    checked = await asyncio.to_thread(verify, settings)
    assert checked.returncode != 0
    said = checked.stdout + checked.stderr
    assert "设置“迎检预判的群体权重”被改动" in said and "设置“迎检预判的设计效应”被改动" in said


async def _national_check(console, survey_id: int) -> tuple[dict, dict]:
    got = await console.get(f"/api/v1/surveys/{survey_id}/results")
    assert got.status_code == 200, got.text
    return got.json()["national_check"], got.json()


async def test_the_results_use_the_rounds_national_weighting(console, demo_links, settings):
    """The demo round, set back to before its opening so its group weights may be edited on the form; the
    results page, the JSON and the report follow a change of 迎检预判's settings at once."""
    survey_id = demo_links[0].survey
    await store(
        settings, survey_id, random_respondents(np.random.default_rng(7), 400, [s.code for s in demo_schools()])
    )
    later = datetime.now(UTC) + timedelta(days=30)
    await fetch(
        settings,
        "UPDATE survey SET opens_at = ?, closes_at = ? WHERE id = ?",
        later,
        later + timedelta(days=5),
        survey_id,
    )
    await login(console, "chief")
    by_respondents, body = await _national_check(console, survey_id)
    assert by_respondents["weighting"] == "respondents" and by_respondents["design_effect"] == 1.0
    for g in by_respondents["groups"]:
        assert g["weight"] == pytest.approx(g["sample"] / by_respondents["sample_size"])
    page = (await console.get(f"/console/rounds/{survey_id}/results")).text
    assert "各群体按答卷人数计权" in page

    # The round's own group weights are set on the round form (before it opens); 迎检预判's on the round page.
    fields = form_values((await console.get(f"/console/rounds/{survey_id}/edit")).text)
    fields |= {"weight_parent": "0.4", "weight_student": "0.3", "weight_teacher": "0.2", "weight_principal": "0.1"}
    saved = await post_form(console, f"/console/rounds/{survey_id}/edit", fields)
    assert saved.status_code == 303, saved.text
    unchanged, _ = await _national_check(console, survey_id)
    assert unchanged["weighting"] == "respondents" and unchanged["design_effect"] == 1.0
    chosen = {"national_weighting": "round", "national_design_effect": "2"}
    assert (await post_form(console, NATIONAL.format(survey_id), chosen)).status_code == 303
    by_round, body = await _national_check(console, survey_id)
    assert by_round["weighting"] == "round" and by_round["design_effect"] == 2.0
    # The round's own group weights (the same the county figure uses), over the groups with answers.
    weights = {g["group"]: g["weight"] for g in by_round["groups"]}
    assert weights == pytest.approx(body["overall"]["group_weights"])
    assert weights["parent"] == pytest.approx(0.4)
    # A larger design effect: a less precise national sample.
    assert by_round["se_national"] > by_respondents["se_national"]
    page = (await console.get(f"/console/rounds/{survey_id}/results")).text
    assert "按本轮的群体权重把各群体的认可度加权合计" in page and "国家样本的设计效应取 2。" in page
    assert "各群体按答卷人数计权" not in page
    # The printed report and its JSON read the round's choice too.
    report = await asyncio.to_thread(command, settings, "report", "--survey", str(survey_id), "--format", "md")
    assert report.returncode == 0, report.stderr
    section = report.stdout.split("## 迎检预判", 1)[1].split("\n## ", 1)[0]
    assert "按本轮的群体权重把各群体的认可度加权合计" in section and "国家样本的设计效应取 2。" in section
    report = await asyncio.to_thread(command, settings, "report", "--survey", str(survey_id), "--format", "json")
    assert json.loads(report.stdout)["national_check"]["probability"] == pytest.approx(by_round["probability"])
