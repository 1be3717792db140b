"""`survey-service analyze` on a 问卷星 export as downloaded: the layout and the roles of its columns
inferred, the figures equal to R survey's on the same answers (tests/reference/make_wjx_reference.R),
and every file it cannot place refused with the row named."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from support.reference_data import REFERENCE, read_csv
from support.wjx_exports import wjx_export, wjx_table, write_export
from support.wjx_reference import check_against_r
from survey_service.cli import main


def analyze(export: Path, *options: str):
    args = ["analyze", str(export), "--schools", str(REFERENCE / "wjx_roster.csv"), "--population", "deputy=60"]
    return CliRunner().invoke(main, [*args, "--format", "json", *options])


@pytest.mark.parametrize(
    "name, variant",
    [
        ("问卷星导出.xlsx", "question"),
        ("问卷星导出.gbk.csv", "question"),
        ("问卷星导出.csv", "matrix"),
        ("matrix.xlsx", "matrix_paren"),
        ("dash.gbk.csv", "dash"),
    ],
)
def test_an_export_as_downloaded_gives_r_survey_figures(tmp_path, name, variant):
    got = analyze(wjx_export(tmp_path / name, variant))
    assert got.exit_code == 0, got.output
    check_against_r(json.loads(got.stdout))
    # What it mapped, on standard error: the roles, the answers per group, the invalid 答卷 by 序号.
    assert "身份列：1、您的身份是：" in got.stderr
    assert "学校列：2、您（或您孩子）所在的学校：" in got.stderr
    assert "评价题：8 列" in got.stderr
    assert "各群体答卷：学生 44，家长 55，教师 18，校长 5，人大代表/政协委员 9，其他群众 14" in got.stderr
    unused, text = ("题11", "题12") if variant == "question" else ("题4", "题5")
    # The 意见和建议 column is mapped, reported and left out of the figures.
    assert f"未使用的列：{unused}\n" in got.stderr and f"意见建议（文字题，不参与计算）：{text}\n" in got.stderr
    assert "无效答卷（评价题全部为“不了解”或未答，不计入）：序号 141" in got.stderr


def test_item_breakdown_names_the_questions(tmp_path):
    got = CliRunner().invoke(
        main,
        [
            "analyze",
            str(wjx_export(tmp_path / "e.xlsx")),
            "--schools",
            str(REFERENCE / "wjx_roster.csv"),
            "--population",
            "deputy=60",
        ],
    )
    assert got.exit_code == 0, got.output
    assert "您对本县免试就近入学的情况是否满意？" in got.stdout
    assert "# 社会认可度分析：e.xlsx" in got.stdout


def test_an_unknown_school_is_named_by_serial_or_skipped(tmp_path):
    answers = read_csv("wjx_answers.csv")
    answers.append({**answers[0], "serial": "146", "school": "WJ09"})
    header, rows = wjx_table("question", answers)
    rows[-1][7] = "乌恰县第九小学 "
    export = write_export(tmp_path / "e.xlsx", header, rows)
    refused = analyze(export)
    assert refused.exit_code == 1
    assert "序号 146（第 147 行）：学校“乌恰县第九小学”不在学校名单中" in refused.stderr
    assert "--unmatched skip" in refused.stderr
    skipped = analyze(export, "--unmatched", "skip")
    assert skipped.exit_code == 0, skipped.output
    assert "未计入：序号 146，学校“乌恰县第九小学”不在学校名单中" in skipped.stderr
    check_against_r(json.loads(skipped.stdout))


def test_an_unknown_identity_is_refused_with_its_row(tmp_path):
    header, rows = wjx_table()
    rows[4][6] = "退休干部"
    refused = analyze(write_export(tmp_path / "e.csv", header, rows))
    assert refused.exit_code == 1
    assert f"序号 {rows[4][0]}（第 6 行）：身份“退休干部”无法识别" in refused.stderr


def test_ambiguous_columns_are_refused_and_a_map_settles_them(tmp_path):
    header, rows = wjx_table()
    # A second identity-like question (the respondent's child's guardian): which one is the group?
    header.insert(7, "2、填写人是：")
    for row in rows:
        row.insert(7, "家长")
    export = write_export(tmp_path / "e.xlsx", header, rows)
    refused = analyze(export)
    assert refused.exit_code == 1
    assert "无法确定身份列，题1、题2 都像是调查对象" in refused.stderr
    mapping = tmp_path / "map.toml"
    mapping.write_text('[identity]\ncolumn = "1、您的身份是："\n', encoding="utf-8")
    mapped = analyze(export, "--map", str(mapping))
    assert mapped.exit_code == 0, mapped.output
    check_against_r(json.loads(mapped.stdout))


def test_a_map_for_an_export_of_one_group_with_its_own_scale(tmp_path):
    """A 家长卷 with no identity question, rated 非常满意 … 不清楚: the map names the group and scale."""
    header = ["序号", "提交答卷时间", "所用时间", "1、孩子就读学校", "2、学校办学条件", "3、教师师德师风"]
    rows = [
        [1, "2026/5/11 9:00:00", "100秒", "乌恰县第一小学", "非常满意", "不满意"],
        [2, "2026/5/11 9:05:00", "2分5秒", "WJ01", "满意", "非常满意"],
        [3, "2026/5/11 9:07:00", "80秒", "吉根乡小学", "不清楚", "(跳过)"],
        [4, "2026/5/11 9:09:00", "80秒", "吉根乡小学", "满意", "一般"],
    ]
    export = write_export(tmp_path / "家长卷.gbk.csv", header, rows)
    refused = analyze(export)
    assert refused.exit_code == 1 and "找不到身份列" in refused.stderr
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        """
[identity]
group = "家长"
[school]
column = "1"
[items]
columns = ["2", "3"]
[[scale]]
label = "非常满意"
recognised = true
[[scale]]
label = "满意"
recognised = true
[[scale]]
label = "一般"
[[scale]]
label = "不满意"
[[scale]]
label = "不清楚"
excluded = true
""",
        encoding="utf-8",
    )
    got = analyze(export, "--map", str(mapping))
    assert got.exit_code == 0, got.output
    body = json.loads(got.stdout)
    # y: WJ01 (1/2, 1), WJ03 (one 不清楚 and a skip: invalid; then 1/2): the school means 0.75 and 0.5.
    assert body["validity"]["returned"] == 4 and body["validity"]["valid"] == 3
    expected = (700 * 0.75 + 80 * 0.5) / (700 + 80)
    assert body["groups"]["parent"]["estimate"] == pytest.approx(expected, abs=1e-12)
    assert "无效答卷（评价题全部为“不了解”或未答，不计入）：序号 3" in got.stderr


@pytest.mark.parametrize(
    "content, message",
    [
        (b"PK\x03\x04not really a workbook", "不是可读取的 Excel 文件"),
        ("序号,提交答卷时间\n".encode(), "没有答卷数据行"),
        ("序号,提交答卷时间,1、满意吗\n1,2026/5/11 9:00:00,很好\n".encode(), "找不到身份列"),
    ],
)
def test_broken_exports_get_a_chinese_message(tmp_path, content, message):
    export = tmp_path / "bad.xlsx" if content.startswith(b"PK") else tmp_path / "bad.csv"
    export.write_bytes(content)
    got = analyze(export)
    assert got.exit_code == 1 and message in got.stderr, got.output
    assert "Traceback" not in got.output


def test_a_column_mostly_of_scale_labels_is_refused(tmp_path):
    header, rows = wjx_table()
    rows[2][10] = "还行吧"
    got = analyze(write_export(tmp_path / "e.csv", header, rows))
    assert got.exit_code == 1
    assert f"题5 的答案大多是量表选项，但序号 {rows[2][0]} 的答案“还行吧”不是" in got.stderr


def test_the_csv_path_is_unchanged(tmp_path):
    responses = tmp_path / "responses.csv"
    responses.write_text("group,school,score\nparent,WJ01,1\nparent,WJ01,0\n", encoding="utf-8")
    got = CliRunner().invoke(
        main, ["analyze", str(responses), "--schools", str(REFERENCE / "wjx_roster.csv"), "--format", "json"]
    )
    assert got.exit_code == 0, got.output
    assert math.isclose(json.loads(got.stdout)["groups"]["parent"]["estimate"], 0.5)
    assert got.stderr == ""
