"""迎检预判's two round settings (the national sample's group weighting and design effect): set on the
round form, refused in Chinese when wrong, written to the change log and the sealed record, and used by
the round's results."""

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


async def test_the_round_form_sets_the_national_weighting_and_design_effect(console, settings):
    await login(console, "chief")
    blank = form_values((await console.get("/console/rounds/new")).text)
    assert blank["national_weighting"] == "respondents" and blank["national_design_effect"] == "1"
    survey_id = await new_round(console)
    assert await fetch(settings, SETTINGS_SQL, survey_id) == [
        {"national_weighting": "respondents", "national_design_effect": 1.0}
    ]

    edit = await console.get(f"/console/rounds/{survey_id}/edit")
    assert "国家评估组样本的群体权重" in edit.text and "按答卷人数（默认）" in edit.text
    assert "按本轮群体权重" in edit.text and "国家样本的设计效应" in edit.text
    fields = form_values(edit.text) | {"national_weighting": "round", "national_design_effect": "1.5"}
    assert (await post_form(console, f"/console/rounds/{survey_id}/edit", fields)).status_code == 303
    assert await fetch(settings, SETTINGS_SQL, survey_id) == [
        {"national_weighting": "round", "national_design_effect": 1.5}
    ]
    shown = form_values((await console.get(f"/console/rounds/{survey_id}/edit")).text)
    assert shown["national_weighting"] == "round" and shown["national_design_effect"] == "1.5"
    page = (await console.get(f"/console/rounds/{survey_id}")).text
    assert "修改了迎检预判的群体权重、迎检预判的设计效应" in page and "chief" in page
    assert "迎检预判：国家评估组样本的群体权重按本轮群体权重，国家样本的设计效应 1.5。" in page

    # Empty design effect: each group's design effect in this round (stored as NULL), shown empty again.
    fields["national_design_effect"] = ""
    assert (await post_form(console, f"/console/rounds/{survey_id}/edit", fields)).status_code == 303
    assert (await fetch(settings, SETTINGS_SQL, survey_id))[0]["national_design_effect"] is None
    shown = form_values((await console.get(f"/console/rounds/{survey_id}/edit")).text)
    assert shown["national_design_effect"] == ""
    assert (
        "国家样本的设计效应取本轮各群体的设计效应（不小于 1）"
        in (await console.get(f"/console/rounds/{survey_id}")).text
    )

    checked = await asyncio.to_thread(verify, settings)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"national_weighting": "nationwide"}, "请选择迎检预判的群体权重：按答卷人数，或按本轮群体权重。"),
        ({"national_design_effect": "0.5"}, "设计效应应在 1 到 10 之间。"),
        ({"national_design_effect": "11"}, "设计效应应在 1 到 10 之间。"),
        ({"national_design_effect": "很大"}, "设计效应必须是数字。"),
        ({"national_design_effect": "nan"}, "设计效应必须是数字。"),
    ],
)
async def test_a_bad_national_setting_is_refused_in_chinese_and_changes_nothing(console, settings, changes, message):
    await login(console, "chief")
    survey_id = await new_round(console)
    before = await fetch(settings, "SELECT * FROM survey WHERE id = ?", survey_id)
    log = await fetch(settings, "SELECT COUNT(*) AS n FROM round_change WHERE survey = ?", survey_id)
    fields = form_values((await console.get(f"/console/rounds/{survey_id}/edit")).text)
    refused = await post_form(console, f"/console/rounds/{survey_id}/edit", fields | {"title": "新名称"} | changes)
    assert refused.status_code == 422 and message in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert await fetch(settings, "SELECT * FROM survey WHERE id = ?", survey_id) == before
    assert await fetch(settings, "SELECT COUNT(*) AS n FROM round_change WHERE survey = ?", survey_id) == log
    # Nor is a new round created with it.
    rounds = await fetch(settings, "SELECT COUNT(*) AS n FROM survey")
    assert (await post_form(console, "/console/rounds", await new_form(console) | changes)).status_code == 422
    assert await fetch(settings, "SELECT COUNT(*) AS n FROM survey") == rounds


async def test_verify_names_a_national_setting_changed_outside_the_service(console, settings):
    await login(console, "chief")
    survey_id = await new_round(console)
    await fetch(settings, "UPDATE survey SET national_weighting = 'round' WHERE id = ?", survey_id)
    checked = await asyncio.to_thread(verify, settings)
    assert checked.returncode != 0
    assert "设置“迎检预判的群体权重”被改动" in checked.stdout + checked.stderr


async def _national_check(console, survey_id: int) -> tuple[dict, dict]:
    got = await console.get(f"/api/v1/surveys/{survey_id}/results")
    assert got.status_code == 200, got.text
    return got.json()["national_check"], got.json()


async def test_the_results_use_the_rounds_national_weighting(console, demo_links, settings):
    """The demo round, set back to before its opening so its settings may be edited on the form."""
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

    fields = form_values((await console.get(f"/console/rounds/{survey_id}/edit")).text)
    fields |= {"national_weighting": "round", "national_design_effect": "2", "weight_parent": "0.4"}
    fields |= {"weight_student": "0.3", "weight_teacher": "0.2", "weight_principal": "0.1"}
    saved = await post_form(console, f"/console/rounds/{survey_id}/edit", fields)
    assert saved.status_code == 303, saved.text
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
