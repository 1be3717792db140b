"""`survey-service analyze`: CSV answers from another tool, by hand, and every input error."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from survey_service.cli import main
from survey_service.core.resources import questionnaires_dir

ROSTER = """code,name,students,parents,teachers,principals,stage,location
A,甲小学,120,100,10,1,小学,城区
B,乙小学,60,50,5,1,小学,乡村
"""
SCORES = """group,school,score
parent,A,1
parent,A,1
parent,A,0
parent,A,1
parent,B,1
parent,B,0
deputy,,1
deputy,,1
"""


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return str(path)


def analyze(tmp_path: Path, responses: str, *options: str, roster: str = ROSTER):
    args = [
        "analyze",
        write(tmp_path, "responses.csv", responses),
        "--schools",
        write(tmp_path, "schools.csv", roster),
        *options,
    ]
    return CliRunner().invoke(main, args)


def test_scores_computed_by_hand(tmp_path):
    got = analyze(
        tmp_path, SCORES, "--population", "deputy=30", "--weights", "parent=0.6,deputy=0.4", "--format", "json"
    )
    assert got.exit_code == 0, got.output
    body = json.loads(got.stdout)
    assert body["groups"]["parent"]["estimate"] == pytest.approx((100 * 0.75 + 50 * 0.5) / 150)
    var_a = (100 / 150) ** 2 * (1 - 4 / 100) * 0.25 / 4
    var_b = (50 / 150) ** 2 * (1 - 2 / 50) * 0.5 / 2
    assert body["groups"]["parent"]["se"] == pytest.approx(math.sqrt(var_a + var_b))
    assert body["groups"]["deputy"]["estimate"] == 1.0
    assert body["groups"]["deputy"]["interval_rule"] == "nchs"
    assert body["overall"]["estimate"] == pytest.approx(0.6 * 2 / 3 + 0.4 * 1.0)
    assert body["overall"]["group_weights"] == {"parent": 0.6, "deputy": 0.4}


def test_valid_column_and_markdown(tmp_path):
    responses = (
        SCORES.replace("group,school,score", "group,school,score,valid")
        .replace(",1\n", ",1,1\n")
        .replace(",0\n", ",0,1\n")
        + "parent,A,0,0\n"
    )
    got = analyze(tmp_path, responses, "--population", "deputy=30")
    assert got.exit_code == 0, got.output
    assert "# 社会认可度分析：responses.csv" in got.stdout
    assert "| 回收问卷 | 9 |" in got.stdout and "| 有效问卷 | 8 | 88.9% |" in got.stdout
    # 4 and 2 respondents: below the display threshold of 5, shown as "—".
    assert "| A | 甲小学 | 小学 | 城区 | — | — | — | 4 |" in got.stdout


def test_item_labels_through_a_questionnaire(tmp_path):
    responses = (
        "group,school,moral_education,equity_policy,submitted\n"
        "家长,A,满意,满意,2026-05-01\nparent,A,满意,不满意,x\nparent,A,不了解,basically_satisfied,\n"
    )
    got = analyze(tmp_path, responses, "--questionnaire", str(questionnaires_dir() / "social.toml"), "--format", "json")
    assert got.exit_code == 0, got.output
    body = json.loads(got.stdout)
    assert body["groups"]["parent"]["estimate"] == pytest.approx((1 + 0.5 + 1) / 3)
    items = {row["key"]: row["overall"] for row in body["items"]}
    assert items["moral_education"]["n"] == 2 and items["moral_education"]["estimate"] == 1.0
    assert items["equity_policy"]["estimate"] == pytest.approx(2 / 3)


def test_a_gb18030_file_from_excel(tmp_path):
    got = analyze(tmp_path, SCORES.replace("deputy", "人大代表"), "--format", "json", roster=ROSTER)
    assert got.exit_code == 0, got.output
    path = tmp_path / "gbk.csv"
    path.write_bytes(ROSTER.encode("gb18030"))
    again = CliRunner().invoke(
        main, ["analyze", str(tmp_path / "responses.csv"), "--schools", str(path), "--format", "json"]
    )
    assert again.exit_code == 0 and json.loads(again.stdout) == json.loads(got.stdout)


@pytest.mark.parametrize(
    "responses, options, roster, message",
    [
        ("group,school,score\nparent,A,1\nteachr,A,1\n", [], ROSTER, "responses.csv 第 3 行：未知的调查对象“teachr”"),
        ("group,school,score\nparent,Z,1\n", [], ROSTER, "responses.csv 第 2 行：学校代码 Z 不在学校名单中"),
        ("group,school,score\nparent,,1\n", [], ROSTER, "第 2 行：parent 需要填写学校代码"),
        ("group,school,score\nparent,A,abc\n", [], ROSTER, "第 2 行：score 列的“abc”不是有效数字"),
        ("group,school,score\nparent,A,1.5\n", [], ROSTER, "第 2 行：score 列的 1.5 超出范围"),
        (
            "group,school,score\nparent,A,1\n",
            [],
            ROSTER.replace("120", "x"),
            # The roster is read as the console reads it (schools/roster.py), with its messages.
            "schools.csv 第 2 行：学生数“x”应为 0 或正整数",
        ),
        ("", [], ROSTER, "responses.csv：文件为空"),
        ("group,school,score\n", [], ROSTER, "responses.csv：没有数据行"),
        ("group,school,score\nparent,A,1\n", [], "", "schools.csv：文件为空"),
        ("group,school,score\nparent,A,1\n", [], "code,name\nA,甲\n", "schools.csv：缺少列 students"),
        ("group,school\nparent,A\n", [], ROSTER, "需要 score 列"),
        (
            "group,school,moral_education\nparent,A,很好\n",
            ["--questionnaire", "SOCIAL"],
            ROSTER,
            "第 2 行：moral_education 列的“很好”不是问卷选项",
        ),
        ("group,school,score\nparent,A,1\n", ["--weights", "parent=abc"], ROSTER, "权重“abc”不是数字"),
        ("group,school,score\nparent,A,1\n", ["--weights", "parents=1"], ROSTER, "应写成 群体=数值"),
        ("group,school,score\nparent,A,1\n", ["--population", "deputy=many"], ROSTER, "人数“many”不是整数"),
        ("group,school,score\nparent,A,1\nparent,A,1,1\n", [], ROSTER, "第 3 行：列数多于表头"),
    ],
)
def test_input_errors_name_the_line(tmp_path, responses, options, roster, message):
    options = [str(questionnaires_dir() / "social.toml") if o == "SOCIAL" else o for o in options]
    got = analyze(tmp_path, responses, *options, roster=roster)
    assert got.exit_code == 1, got.output
    assert message in got.output
    assert "Traceback" not in got.output


def test_clusters_design_runs(tmp_path):
    got = analyze(
        tmp_path,
        SCORES,
        "--design",
        "clusters",
        "--ci",
        "beta",
        "--level",
        "0.9",
        "--target",
        "0.8",
        "--format",
        "json",
    )
    assert got.exit_code == 0, got.output
    body = json.loads(got.stdout)
    assert body["design"]["type"] == "clusters" and body["design"]["schools_in_county"] == 2
    assert body["method"] == "beta" and body["level"] == 0.9 and body["target"] == 0.8


def test_a_roster_without_stage_and_location_or_with_chinese_headers(tmp_path):
    """The roster is read as the console reads it; analyze still lets stage and location be left out."""
    bare = analyze(
        tmp_path,
        SCORES,
        "--format",
        "json",
        roster=ROSTER.replace(",stage,location", "").replace(",小学,城区", "").replace(",小学,乡村", ""),
    )
    assert bare.exit_code == 0, bare.output
    chinese = ROSTER.replace(
        "code,name,students,parents,teachers,principals,stage,location",
        "学校代码,学校名称,学生数,家长数（户）,教师数,校长数,学段,城乡类型",
    )
    got = analyze(tmp_path, SCORES, "--format", "json", roster=chinese)
    assert got.exit_code == 0, got.output
    assert json.loads(got.stdout)["overall"] == json.loads(bare.stdout)["overall"]
