"""`survey-service import --from wjx`: a county's 问卷星 export becomes the round's answers (source
问卷星导入), with the same figures `analyze` gives for the file; importing it again adds nothing; a
bad file stores nothing. On SQLite and PostgreSQL (SURVEY_TEST_POSTGRES_URL)."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import msgspec
import pytest
from openpyxl import load_workbook

from support.reference_data import REFERENCE
from support.wjx_exports import county_export, wjx_export, wjx_table, write_export
from support.wjx_reference import check_against_r
from survey_service.core.groups import Group
from survey_service.core.resources import questionnaires_dir
from survey_service.demo.county import DEPUTIES, demo_schools
from survey_service.distribution.service import create_links
from survey_service.questionnaire import load_questionnaires
from survey_service.results.service import round_result
from survey_service.results.wjx_import import import_export
from survey_service.schools.roster import parse_roster
from survey_service.schools.schemas import SchoolSpec
from survey_service.schools.service import add_schools
from survey_service.surveys.schemas import RoundSpec
from survey_service.surveys.service import create_round

CLI = [sys.executable, "-m", "survey_service"]
SOCIAL = load_questionnaires(questionnaires_dir())["social"]
SCHOOLS = [(s.code, s.name) for s in demo_schools()]


def run(*args: str, settings, check: bool = True) -> subprocess.CompletedProcess:
    db = [] if settings.is_postgres else ["--db", settings.sqlite_path]
    result = subprocess.run(
        [*CLI, *args[:1], *db, *args[1:]] if args[0] not in ("analyze",) else [*CLI, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "SURVEY_DATABASE_URL": settings.database_url, "SURVEY_SECRET": "test-secret"},
        timeout=120,
        cwd=tempfile.gettempdir(),
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def roster_csv(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["code", "name", "students", "parents", "teachers", "principals"])
        for s in demo_schools():
            out.writerow([s.code, s.name, s.students, s.parents, s.teachers, s.principals])
    return path


def stored(settings) -> list[tuple]:
    if settings.is_postgres:

        async def read():
            connection = await asyncpg.connect(settings.database_url)
            try:
                return [tuple(r) for r in await connection.fetch("SELECT nonce, source FROM response ORDER BY id")]
            finally:
                await connection.close()

        return asyncio.run(read())
    with sqlite3.connect(settings.sqlite_path) as connection:
        return connection.execute("SELECT nonce, source FROM response ORDER BY id").fetchall()


def same_figures(report: dict, analysis: dict) -> None:
    for key in ("estimate", "se", "ci_low", "ci_high", "n", "df"):
        assert report["overall"][key] == pytest.approx(analysis["overall"][key], abs=1e-12), key
    for group in ("parent", "deputy", "public"):
        for key in ("estimate", "se", "ci_low", "ci_high", "n"):
            assert report["groups"][group][key] == pytest.approx(analysis["groups"][group][key], abs=1e-12)
    assert report["validity"]["valid"] == analysis["validity"]["valid"]
    assert report["validity"]["excluded"] == analysis["validity"]["excluded"]


def test_an_export_imported_gives_the_results_analyze_gives_and_again_adds_nothing(settings, tmp_path):
    run("demo", "--empty", "--no-serve", "--admin-password", "pw-for-tests-1", settings=settings)
    xlsx = county_export(tmp_path / "问卷星导出.xlsx", SOCIAL, SCHOOLS)
    imported = run("import", "--from", "wjx", str(xlsx), settings=settings)
    returned = len(stored(settings))
    assert returned > 80
    assert f"新增 {returned} 份答卷（来源：问卷星导入），0 份此前已导入" in imported.stdout
    assert (
        "题目对应（县域义务教育优质均衡发展社会认可度调查问卷（社会卷），家长等）：题3→问卷第1题“您对本县中小学落实立德"
        in imported.stderr
    )
    assert {source for _, source in stored(settings)} == {"wjx"}
    assert all(nonce.startswith("wjx:1:") for nonce, _ in stored(settings))

    # The same answers downloaded again as a GB18030 CSV: nothing new.
    header_rows = _as_rows(xlsx)
    again = run(
        "import", "--from", "wjx", str(write_export(tmp_path / "again.gbk.csv", *header_rows)), settings=settings
    )
    assert f"新增 0 份答卷（来源：问卷星导入），{returned} 份此前已导入" in again.stdout
    assert len(stored(settings)) == returned

    report = json.loads(run("report", "--format", "json", settings=settings).stdout)
    analysis = json.loads(
        run(
            "analyze",
            str(xlsx),
            "--schools",
            str(roster_csv(tmp_path / "schools.csv")),
            "--population",
            f"deputy={DEPUTIES}",
            "--format",
            "json",
            settings=settings,
        ).stdout
    )
    same_figures(report, analysis)
    assert report["validity"]["sources"] == {"online": 0, "wjx": returned}
    assert report["validity"]["returned"] == returned
    markdown = run("report", settings=settings).stdout
    assert f"| 来源：问卷星导入 | {returned} | 100.0% |" in markdown
    workbook = tmp_path / "results.xlsx"
    run("report", "--format", "xlsx", "--out", str(workbook), settings=settings)
    cells = [
        c for sheet in load_workbook(workbook).worksheets for row in sheet.iter_rows(values_only=True) for c in row
    ]
    assert "来源：问卷星导入" in cells
    # Chained like any answer: verify holds (the chain, the tallies recounted).
    assert run("verify", settings=settings).returncode == 0


def _as_rows(xlsx: Path):
    sheet = load_workbook(xlsx).worksheets[0]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    return values[0], values[1:]


def test_a_bad_file_stores_nothing_and_names_the_row(settings, tmp_path):
    run("demo", "--empty", "--no-serve", "--admin-password", "pw-for-tests-1", settings=settings)
    header, rows = _as_rows(county_export(tmp_path / "e.xlsx", SOCIAL, SCHOOLS))
    school = header.index("2、您孩子就读的学校：")
    broken = next(row for row in rows[40:] if row[school] != "(跳过)")
    broken[school] = "乌恰县第九十九小学"
    refused = run(
        "import",
        "--from",
        "wjx",
        str(write_export(tmp_path / "bad.xlsx", header, rows)),
        settings=settings,
        check=False,
    )
    assert refused.returncode == 1
    assert f"序号 {broken[0]}" in refused.stderr and "乌恰县第九十九小学" in refused.stderr
    assert stored(settings) == []
    # A file whose questions are not the round's questionnaire: refused before anything is stored.
    header, rows = wjx_table()
    refused = run(
        "import",
        "--from",
        "wjx",
        str(write_export(tmp_path / "other.csv", header, rows)),
        settings=settings,
        check=False,
    )
    assert refused.returncode == 1 and "学校“" in refused.stderr
    assert stored(settings) == []


MAP_FOR_EVERY_QUESTIONNAIRE = """
[items.ids]
"第3题(立德树人、思想品德教育)" = "moral_education"
"第3题(义务教育公平政策)" = "nearby_enrolment"
"第3题(免试就近入学)" = "resource_sharing"
"第3题(优质教育资源共享)" = "school_conditions"
"第3题(城乡学校办学条件)" = "school_conduct"
"第3题(教师队伍师德师风)" = "quality_education"
"第3题(规范办学行为)" = "assessment_reform"
"第3题(减轻学生课业负担)" = "homework_burden"
"""


async def test_the_r_reference_export_imported_into_a_round_gives_r_survey_figures(database, tmp_path):
    """The export `analyze` reads to R's figures (test_wjx_analyze.py), imported into a round with the same
    roster: the round's result is R survey's too. Its 8 generic questions are mapped to items that the
    student, staff and social questionnaires all have."""
    questionnaires = load_questionnaires(questionnaires_dir())
    now = datetime.now(UTC)
    survey_id = await create_round(
        RoundSpec(
            title="问卷星导入",
            region="乌恰县",
            opens_at=now - timedelta(days=9),
            closes_at=now - timedelta(days=2),
            county_populations={Group.deputy: 60},
        ),
        questionnaires,
    )
    roster = REFERENCE / "wjx_roster.csv"
    await add_schools(survey_id, parse_roster(roster.name, roster.read_bytes(), SchoolSpec))
    await create_links(survey_id)
    export = wjx_export(tmp_path / "问卷星导出.xlsx", "matrix")
    plan, outcome = await import_export(
        database, questionnaires, survey_id, export.name, export.read_bytes(), MAP_FOR_EVERY_QUESTIONNAIRE.encode()
    )
    assert outcome.stored == 145 and outcome.already == 0
    result = await round_result(survey_id)
    check_against_r(json.loads(msgspec.json.encode(result)))


def test_a_large_import_is_one_transaction_all_or_nothing(settings, tmp_path):
    """Thousands of answers (more than one SQL statement's 32,767 parameters on PostgreSQL) are stored
    in one transaction: when the database fails part-way (here the disk fills at the 1,500th row), the
    import stores none of them and says so; once it can write again, importing again stores them all."""
    run("demo", "--empty", "--no-serve", "--admin-password", "pw-for-tests-1", settings=settings)
    header, rows = _as_rows(county_export(tmp_path / "one.xlsx", SOCIAL, SCHOOLS))
    many = [[serial, *row[1:]] for serial, row in enumerate((rows * (2_400 // len(rows) + 1))[:2_400], start=1)]
    big = write_export(tmp_path / "问卷星导出.gbk.csv", header, many)
    if settings.is_postgres:
        trigger = """
            CREATE FUNCTION disk_fills() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.nonce LIKE 'wjx:1:1500:%' THEN RAISE EXCEPTION 'disk full' USING ERRCODE = '53100'; END IF;
              RETURN NEW;
            END $$;
            CREATE TRIGGER disk_fills BEFORE INSERT ON response FOR EACH ROW EXECUTE FUNCTION disk_fills();
        """

        async def execute(sql: str) -> None:
            connection = await asyncpg.connect(settings.database_url)
            try:
                await connection.execute(sql)
            finally:
                await connection.close()

        asyncio.run(execute(trigger))
        failed = run("import", "--from", "wjx", str(big), settings=settings, check=False)
        assert failed.returncode != 0 and "Traceback" not in failed.stderr
        assert "数据库暂时无法写入，本次导入没有保存任何答卷" in failed.stderr
        assert stored(settings) == []  # none of the 1,499 rows before the failure stayed
        asyncio.run(execute("DROP TRIGGER disk_fills ON response; DROP FUNCTION disk_fills();"))
    imported = run("import", "--from", "wjx", str(big), settings=settings)
    assert "新增 2400 份答卷（来源：问卷星导入），0 份此前已导入" in imported.stdout
    assert len(stored(settings)) == 2_400
    assert run("verify", settings=settings).returncode == 0
