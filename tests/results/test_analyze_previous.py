"""`survey-service analyze --previous FILE`: last year's answers (same format, same roster) compared with
this year's; an item whose wording changed between the two questionnaires is 不可比; bad input is a
Chinese message naming the file."""

from __future__ import annotations

import json
import random
from pathlib import Path

from click.testing import CliRunner

from survey_service.cli import main
from survey_service.core.resources import questionnaires_dir

ROSTER = """code,name,students,parents,teachers,principals,stage,location
A,甲小学,1200,1000,60,1,小学,城区
B,乙小学,900,800,40,1,小学,乡村
"""
ITEMS = ["moral_education", "equity_policy", "nearby_enrolment", "school_conditions"]
LABELS = {True: ["满意", "比较满意", "基本满意"], False: ["不满意"]}


def answers(rate: float, seed: int) -> str:
    """Parents of A and B and county deputies; each item 认可 with chance `rate`."""
    rng = random.Random(seed)
    lines = ["group,school," + ",".join(ITEMS)]
    for group, school, n in (("parent", "A", 150), ("parent", "B", 120), ("deputy", "", 40)):
        for _ in range(n):
            lines.append(f"{group},{school}," + ",".join(rng.choice(LABELS[rng.random() < rate]) for _ in ITEMS))
    return "\n".join(lines) + "\n"


def files(tmp_path: Path) -> dict[str, str]:
    social = (questionnaires_dir() / "social.toml").read_text(encoding="utf-8")
    old_text = "您对本县落实义务教育公平政策（如资助困难学生、保障随迁子女和残疾儿童入学）的情况是否满意？"
    assert old_text in social
    paths = {
        "now": ("2025.csv", answers(0.93, 1)),
        "before": ("2024.csv", answers(0.72, 2)),
        "schools": ("schools.csv", ROSTER),
        "form": ("social.toml", social),
        # Last year's questionnaire asked item 2 in other words: not comparable.
        "old_form": ("social-2024.toml", social.replace(old_text, "您对本县资助困难学生的情况是否满意？")),
    }
    for name, text in paths.values():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return {key: str(tmp_path / name) for key, (name, _) in paths.items()}


def analyze(f: dict[str, str], *options: str):
    args = ["analyze", f["now"], "--schools", f["schools"], "--population", "deputy=60", "--questionnaire", f["form"]]
    return CliRunner().invoke(main, [*args, *options])


def test_previous_file_is_compared_and_a_reworded_item_is_not(tmp_path):
    f = files(tmp_path)
    got = analyze(f, "--previous", f["before"], "--previous-questionnaire", f["old_form"], "--format", "json")
    assert got.exit_code == 0, got.output
    body = json.loads(got.stdout)
    c = body["comparison"]
    assert c["previous_round"] is None and c["previous_title"] == "2024.csv"
    assert c["overall"]["verdict"] == "rise" and c["overall"]["difference"] > 0.1
    assert c["overall"]["current"] == body["overall"]["estimate"]
    items = {i["key"]: i for i in c["items"]}
    assert (items["equity_policy"]["verdict"], items["equity_policy"]["reason"]) == ("not_comparable", "changed")
    assert items["equity_policy"]["difference"] is None
    assert {items[k]["verdict"] for k in ITEMS if k != "equity_policy"} == {"rise"}
    assert {s["key"] for s in c["schools"]} == {"A", "B"}
    assert [(p["title"], p["current"]) for p in c["trend"]] == [("2024.csv", False), ("2025.csv", True)]

    same_form = json.loads(analyze(f, "--previous", f["before"], "--format", "json").stdout)["comparison"]
    assert {i["verdict"] for i in same_form["items"]} == {"rise"}  # one questionnaire for both: all comparable

    text = analyze(f, "--previous", f["before"], "--previous-questionnaire", f["old_form"]).stdout
    section = text[text.index("## 与上一轮对比") :]
    assert "与“2024.csv”相比" in section and "显著提高" in section
    assert "不可比（题目表述或选项有变化）" in section and "equity_policy" not in section


def test_identical_files_show_no_change(tmp_path):
    f = files(tmp_path)
    copy = tmp_path / "copy.csv"
    copy.write_text(Path(f["now"]).read_text(encoding="utf-8"), encoding="utf-8")
    c = json.loads(analyze(f, "--previous", str(copy), "--format", "json").stdout)["comparison"]
    lines = [c["overall"], *c["groups"], *c["items"], *c["schools"]]
    assert {line["verdict"] for line in lines} == {"no_change"} and {line["difference"] for line in lines} == {0.0}


def test_bad_previous_files_are_refused_in_chinese(tmp_path):
    f = files(tmp_path)
    itself = analyze(f, "--previous", f["now"])
    assert itself.exit_code == 1 and "与本轮答卷是同一个文件" in itself.output
    (tmp_path / "bad.csv").write_text("group,school,moral_education\nparent,Z,满意\n", encoding="utf-8")
    unknown = analyze(f, "--previous", str(tmp_path / "bad.csv"))
    assert unknown.exit_code == 1 and "bad.csv 第 2 行：学校代码 Z 不在学校名单中" in unknown.output
    assert "Traceback" not in unknown.output
