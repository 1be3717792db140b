"""Schools ranked by their adjusted figure (the Fay–Herriot estimate, `schools[].shrunk`): a school with
6 answers, all 认可, no longer tops the ranking; the direct figure and its interval stand beside the
adjusted one in the workbook, the Markdown report and the JSON, on a real round too."""

from __future__ import annotations

import io
import json

import numpy as np
import openpyxl
import pytest
from click.testing import CliRunner

from analysis import CellTotals, Design, School, Settings, Stratum, analyse
from support.generated_county import SMALL_SCHOOL, generated_county
from survey_service.cli import main
from survey_service.results.markdown import report_markdown
from survey_service.results.ranking import RANKED, rank_schools, ranked_schools_table
from survey_service.results.small_area_texts import (
    DIRECT_LABEL,
    NO_DIFFERENCE,
    SHRUNK_LABEL,
    WEIGHT_LABEL,
    method_paragraphs,
    ranking_note,
)


def test_a_school_with_six_answers_all_recognised_no_longer_ranks_first():
    result = analyse(*generated_county())
    small = next(s for s in result.schools if s.key == SMALL_SCHOOL)
    assert small.overall.estimate == 1.0 and small.overall.n == 6
    by_direct = sorted(result.schools, key=lambda s: -s.overall.estimate)
    assert by_direct[0].key == SMALL_SCHOOL  # what a ranking by the direct figure would show
    schools = rank_schools(result)
    assert schools.shrunk and not schools.imprecise and len(schools.ranked) == len(result.schools)
    assert schools.ranked[0].key != SMALL_SCHOOL
    shrunk = [s.shrunk.estimate for s in schools.ranked if s.shrunk]
    assert shrunk == sorted(shrunk, reverse=True) and len(shrunk) == len(result.schools)
    assert small.shrunk is not None and small.shrunk.synthetic < small.shrunk.estimate < 1.0

    table = ranked_schools_table(result)
    titles = [c.title for c in table.columns]
    assert titles[5:10] == [SHRUNK_LABEL, "调整后95%区间下限", "调整后95%区间上限", WEIGHT_LABEL, DIRECT_LABEL]
    rows = {row[1]: row for row in table.rows}
    row = rows[SMALL_SCHOOL]
    assert row[0] == 1 + [s.key for s in schools.ranked].index(SMALL_SCHOOL) > 1
    assert row[5] == small.shrunk.estimate and row[titles.index(DIRECT_LABEL)] == 1.0
    assert row[titles.index("95%置信区间下限")] == small.overall.ci_low < 0.6  # the wide direct interval
    assert row[titles.index("排名说明")] == RANKED

    text = report_markdown(result, {}, by_questionnaire=[])
    assert f"| {SHRUNK_LABEL} |" in text and f"| {DIRECT_LABEL} |" in text
    assert "Fay–Herriot" in text and "答卷越少" in text and "保留在表中" in text  # the method, in words
    [line] = [line for line in text.splitlines() if "| 甲小学 |" in line]
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[0] == str(row[0]) and cells[5] == f"{small.shrunk.estimate:.1%}" and cells[9] == "100.0%"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_a_round_gives_each_shown_school_its_adjusted_figure_and_ranks_by_it(settings, answered_round, tmp_path):
    got = run("report", "--db", settings.database_url, "--format", "json")
    assert got.exit_code == 0, got.output
    schools = json.loads(got.stdout)["schools"]
    shown = [s for s in schools if not s["overall"]["suppressed"]]
    assert len(shown) >= 5 and all(s["shrunk"] is None for s in schools if s["overall"]["suppressed"])
    means = {s["shrunk"]["synthetic"] for s in shown}
    assert len(means) == 1
    mean = means.pop()
    for s in shown:
        direct, shrunk = s["overall"]["estimate"], s["shrunk"]
        assert set(shrunk) == {
            *("estimate", "mse", "ci_low", "ci_high", "weight", "synthetic"),
            *("sampling_variance", "variance_rule", "model_variance"),
        }
        # Between the school's own figure and the county mean, by the weight of its own figure.
        assert shrunk["estimate"] == pytest.approx(shrunk["weight"] * direct + (1 - shrunk["weight"]) * mean, abs=1e-12)
        assert min(direct, mean) - 1e-12 <= shrunk["estimate"] <= max(direct, mean) + 1e-12
        assert 0 < shrunk["mse"] and shrunk["ci_low"] <= shrunk["estimate"] <= shrunk["ci_high"]
        if shrunk["variance_rule"] == "design":
            assert shrunk["sampling_variance"] == pytest.approx(s["overall"]["se"] ** 2)
            assert shrunk["mse"] < shrunk["sampling_variance"]

    out = tmp_path / "report.xlsx"
    assert run("report", "--db", settings.database_url, "--format", "xlsx", "--out", str(out)).exit_code == 0
    sheet = list(openpyxl.load_workbook(io.BytesIO(out.read_bytes()))["分学校"].iter_rows(values_only=True))
    titles = list(sheet[0])
    ranked = [row for row in sheet[1:] if row[0] not in (None, "")]
    by_key = {s["key"]: s for s in shown}
    assert [row[1] for row in ranked] == sorted(by_key, key=lambda k: -by_key[k]["shrunk"]["estimate"])
    for row in ranked:
        assert row[titles.index(SHRUNK_LABEL)] == pytest.approx(by_key[row[1]]["shrunk"]["estimate"])
        assert row[titles.index(DIRECT_LABEL)] == pytest.approx(by_key[row[1]]["overall"]["estimate"])

    text = run("report", "--db", settings.database_url, "--format", "md").stdout
    assert f"| {SHRUNK_LABEL} |" in text and "学校排名采用“调整后认可度”" in text


def test_schools_that_differ_by_sampling_error_alone_share_one_rank_and_the_page_says_so():
    codes = [f"S{k}" for k in range(8)]
    design = Design(
        schools=[School(code=c, name=f"第{k}小学") for k, c in enumerate(codes)],
        strata=[Stratum(group="parent", school=c, population=400) for c in codes],
        settings=Settings(),
    )
    result = analyse(design, [CellTotals(group="parent", school=c, n=40, sum_y=36, sum_y2=34) for c in codes])
    assert all(s.shrunk is not None and s.shrunk.model_variance == 0 for s in result.schools)
    table = ranked_schools_table(result)
    assert [row[0] for row in table.rows] == [1] * len(codes)  # 名次 all 1: tied, in roster order
    assert [row[1] for row in table.rows] == codes
    assert ranking_note(result).endswith(NO_DIFFERENCE)
    assert any("本轮估计为 0" in paragraph for paragraph in method_paragraphs(result))
    assert NO_DIFFERENCE not in ranking_note(analyse(*generated_county()))


def test_analyze_prints_the_adjusted_figure_beside_the_direct_one(tmp_path):
    """`analyze` on a CSV from another tool: six schools, one of them with 6 parents all 认可."""
    rng = np.random.default_rng(2)
    roster = "code,name,students,parents,teachers,principals,stage,location\n" + "".join(
        f"S{k},第{k}小学,300,250,20,1,小学,城区\n" for k in range(6)
    )
    lines = ["group,school,score"]
    for k in range(6):
        scores = [1] * 6 if k == 0 else rng.binomial(1, 0.8 + 0.03 * k, 60).tolist()
        lines += [f"parent,S{k},{s}" for s in scores]
    (tmp_path / "responses.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "schools.csv").write_text(roster, encoding="utf-8")
    args = ["analyze", str(tmp_path / "responses.csv"), "--schools", str(tmp_path / "schools.csv")]
    text = CliRunner().invoke(main, args).stdout
    body = json.loads(CliRunner().invoke(main, [*args, "--format", "json"]).stdout)
    first = body["schools"][0]
    assert first["overall"]["estimate"] == 1.0 and first["shrunk"]["variance_rule"] == "pooled"
    header = next(line for line in text.splitlines() if line.startswith("| 学校代码 |"))
    titles = [c.strip() for c in header.strip("|").split("|")]
    assert titles[4:8] == ["认可度", "置信区间下限", "置信区间上限", "调整后认可度"]
    [row] = [line for line in text.splitlines() if line.startswith("| S0 |")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[4] == "100.0%" and cells[7] == f"{first['shrunk']['estimate']:.1%}" != "100.0%"
    assert "学校排名采用“调整后认可度”" in text
