"""迎检预判 where the bureau reads it: `national_check` in the JSON results of a real round (its national
sample from the round's 常住人口), the report's Markdown section, the workbook's 迎检预判 sheet and
`analyze`, on every backend."""

from __future__ import annotations

import io
import json
import math
import re

import numpy as np
import openpyxl
import pytest
from click.testing import CliRunner
from scipy import stats

from support.helpers import fetch
from support.respondents import random_respondents, store
from survey_service.cli import main
from survey_service.demo.county import demo_schools

CODES = [s.code for s in demo_schools()]
WORDS = ("很可能通过", "存在风险", "很可能不通过")


async def _results(client, survey_id: int) -> dict:
    got = await client.get(f"/api/v1/surveys/{survey_id}/results")
    assert got.status_code == 200, got.text
    return got.json()


async def test_the_results_carry_the_chance_of_passing_the_national_check(bureau_client, demo_links, settings):
    survey_id = demo_links[0].survey
    await store(settings, survey_id, random_respondents(np.random.default_rng(5), 400, CODES))
    body = await _results(bureau_client, survey_id)
    check = body["national_check"]
    # The demo county: 常住人口 72,000 × 1.5‰ = 108, below the minimum of 600 for a county under 400,000.
    assert check["resident_population"] == 72_000 and check["sample_size"] == 600 and not check["minimum_assumed"]
    sample = {g["group"]: g["sample"] for g in check["groups"]}
    assert set(sample) == set(body["groups"]) and sum(sample.values()) == 600
    assert sample["parent"] >= 300  # 家长 at least half
    # By respondents (the default): each group's weight is its share of the national sample.
    for g in check["groups"]:
        assert g["weight"] == pytest.approx(g["sample"] / 600)
        assert g["estimate"] == pytest.approx(body["groups"][g["group"]]["estimate"])
    assert check["expected"] == pytest.approx(sum(g["weight"] * g["estimate"] for g in check["groups"]))
    assert check["se"] == pytest.approx(math.hypot(check["se_round"], check["se_national"]))
    z = (check["expected"] - body["target"]) / check["se"]
    assert check["probability"] == pytest.approx(stats.norm.cdf(z))
    p = check["probability"]
    assert check["verdict"] == ("likely_pass" if p >= 0.9 else "likely_fail" if p < 0.5 else "at_risk")
    assert check["target"] < check["safe_rate"] < check["safe_estimate"] < 1

    # A larger county asks more people; an unknown 常住人口 takes the national minimum, and says so.
    # (Written on a connection of its own: the app under test runs on another event loop.)
    await fetch(settings, "UPDATE survey SET resident_population = ? WHERE id = ?", 1_000_000, survey_id)
    larger = (await _results(bureau_client, survey_id))["national_check"]
    assert larger["sample_size"] == 1500 and larger["se_national"] < check["se_national"]
    await fetch(settings, "UPDATE survey SET resident_population = ? WHERE id = ?", 0, survey_id)
    unknown = (await _results(bureau_client, survey_id))["national_check"]
    assert unknown["sample_size"] == 600 and unknown["minimum_assumed"]


async def test_a_round_without_answers_has_no_national_check(bureau_client, demo_links):
    assert (await _results(bureau_client, demo_links[0].survey))["national_check"] is None


@pytest.fixture
def demo_database(settings) -> str:
    """The demo county with its simulated answers, as `survey-service demo` leaves it."""
    got = CliRunner().invoke(
        main, ["demo", "--db", settings.database_url, "--no-serve", "--admin-password", "demo-pass-123"]
    )
    assert got.exit_code == 0, got.output
    return settings.database_url


def run(*args: str):
    got = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert got.exit_code == 0, got.output
    return got


def test_the_report_and_the_workbook_show_the_national_check(demo_database, tmp_path):
    body = json.loads(run("report", "--db", demo_database, "--format", "json").stdout)
    check = body["national_check"]
    text = run("report", "--db", demo_database, "--format", "md").stdout
    section = text.split("## 迎检预判", 1)[1].split("\n## ", 1)[0]
    words = {"likely_pass": "很可能通过", "at_risk": "存在风险", "likely_fail": "很可能不通过"}[check["verdict"]]
    assert f"**{words}**" in section
    assert "90% 把握线" in section and f"{check['safe_rate']:.1%}" in section
    assert "常住人口 72,000 人，国家样本 600 人" in section
    for g in check["groups"]:
        assert re.search(rf"\| [^|]+ \| {g['sample']} \| {g['weight']:.1%} \|", section)
    assert "假设" in section and "正态近似" in section
    assert not re.search(r"[A-Za-z_]{4,}", section.replace("Φ", ""))  # Chinese only: no ids, no English

    out = tmp_path / "results.xlsx"
    run("report", "--db", demo_database, "--format", "xlsx", "--out", str(out))
    book = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))
    assert book.sheetnames.index("迎检预判") == book.sheetnames.index("总体") + 1
    rows = {row[0]: row for row in book["迎检预判"].iter_rows(min_row=2, values_only=True)}
    assert rows["通过国家评估组抽样调查的概率"][1] == pytest.approx(check["probability"])
    assert rows["通过国家评估组抽样调查的概率"][3].startswith(words)
    assert rows["90% 把握所需的全县真实认可度"][1] == pytest.approx(check["safe_rate"])
    assert rows["国家样本量"][2] == 600
    assert rows["国家样本：家长"][2] == next(g["sample"] for g in check["groups"] if g["group"] == "parent")
    assert any(name.startswith("假设") for name in rows)


ROSTER = """code,name,students,parents,teachers,principals
A,甲小学,400,350,30,1
B,乙小学,300,260,20,1
"""


def test_analyze_gives_the_national_check_and_says_when_it_assumed_the_minimum(tmp_path):
    rng = np.random.default_rng(4)
    lines = ["group,school,score"]
    for group, school, n in (("parent", "A", 60), ("parent", "B", 50), ("student", "A", 30), ("teacher", "B", 12)):
        lines += [f"{group},{school},{y:.4f}" for y in rng.binomial(13, 0.88, n) / 13]
    (tmp_path / "answers.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "schools.csv").write_text(ROSTER, encoding="utf-8")
    base = ["analyze", str(tmp_path / "answers.csv"), "--schools", str(tmp_path / "schools.csv")]

    text = run(*base).stdout
    assert "## 迎检预判" in text and "未给出常住人口，按国家最低样本量 600 人估算" in text
    body = json.loads(run(*base, "--format", "json", "--resident-population", "500000").stdout)
    check = body["national_check"]
    assert check["sample_size"] == 750 and not check["minimum_assumed"]
    assert {g["group"]: g["sample"] for g in check["groups"]}["parent"] >= 375
    by_round = json.loads(run(*base, "--format", "json", "--national-weighting", "round").stdout)["national_check"]
    assert by_round["weighting"] == "round"
    assert {g["group"]: g["weight"] for g in by_round["groups"]} == pytest.approx(body["overall"]["group_weights"])
