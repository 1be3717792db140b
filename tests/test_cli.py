"""The survey-service command as a bureau runs it: demo, migrate, links export, qr export, serve."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from openpyxl import load_workbook

from support.console_session import login
from support.helpers import POSTGRES_URL, demo_server, fetch, filled_form, free_port, running, wait_for_health
from support.qr import decode_png, decode_svg
from survey_service.app import create_app
from survey_service.core.settings import Settings

CLI = [sys.executable, "-m", "survey_service"]


def run(*args: str, env: dict | None = None, check: bool = True, cwd=None) -> subprocess.CompletedProcess:
    # Run outside the checkout, so that the installed package is what runs.
    result = subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        cwd=cwd or tempfile.gettempdir(),
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def db_args(settings) -> list[str]:
    """The database as each command takes it: --db for SQLite, SURVEY_DATABASE_URL for PostgreSQL."""
    return [] if settings.is_postgres else ["--db", settings.sqlite_path]


@pytest.fixture
def db_env(settings) -> dict:
    return {"SURVEY_DATABASE_URL": settings.database_url, "SURVEY_PUBLIC_URL": "http://county.example"}


def test_demo_creates_the_county_once_and_links_export_lists_every_link(db_args, db_env, settings):
    demo_db = db_args or []
    if settings.is_postgres:
        first = run("demo", "--no-serve", "--empty", env=db_env)
    else:
        first = run("demo", "--no-serve", "--empty", *demo_db, env=db_env)
    assert "乌恰县第一小学 · 家长: http://county.example/s/" in first.stdout
    second = run("demo", "--no-serve", "--empty", *demo_db, env=db_env)
    assert links_printed(second.stdout) == links_printed(first.stdout)  # reused, not created twice

    exported = run("links", "export", *db_args, env=db_env).stdout
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert list(rows[0])[:5] == ["survey", "school_code", "school_name", "group", "group_label"]
    # 20 schools × 4 groups + 2 county-level groups.
    assert len(rows) == 82
    assert {r["group"] for r in rows if r["school_code"] == ""} == {"deputy", "public"}
    assert len({r["url"] for r in rows}) == 82
    assert all(re.fullmatch(r"http://county\.example/s/[A-Za-z0-9_-]{16}", r["url"]) for r in rows)
    for url in [r["url"] for r in rows if r["school_code"] == "WQ01"]:
        assert url in first.stdout


def test_links_export_xlsx_and_qr_export_png_svg(db_args, db_env, settings, tmp_path):
    run("demo", "--no-serve", "--empty", *db_args, env=db_env)
    out = tmp_path / "links.xlsx"
    run("links", "export", *db_args, "--format", "xlsx", "--out", str(out), env=db_env)
    assert subprocess.run(["sha256sum", "-c", "links.xlsx.sha256"], cwd=tmp_path, capture_output=True).returncode == 0
    sheet = load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("survey", "school_code", "school_name", "group") and len(rows) == 83
    urls = {f"{r[1] or '全县'}-{r[4]}": r[5] for r in rows[1:]}

    png_dir, svg_dir = tmp_path / "png", tmp_path / "svg"
    done = run("qr", "export", *db_args, "--out", str(png_dir), env=db_env)
    assert "已生成 82 个二维码" in done.stderr
    run("qr", "export", *db_args, "--out", str(svg_dir), "--format", "svg", env=db_env)
    assert len(list(png_dir.glob("*.png"))) == len(list(svg_dir.glob("*.svg"))) == 82
    for directory in (png_dir, svg_dir):
        checked = subprocess.run(["sha256sum", "-c", "MANIFEST.sha256"], cwd=directory, capture_output=True, text=True)
        assert checked.returncode == 0 and checked.stdout.count(": OK") == 82
    # Named by school and group, captioned with them (the SVG's caption is text).
    for name, file in [
        ("WQ01-家长", "WQ01-乌恰县第一小学-家长"),
        ("WQ20-校长", "WQ20-黑孜苇乡中学-校长"),
        ("全县-人大代表/政协委员", "全县-人大代表、政协委员"),
    ]:
        assert decode_png((png_dir / f"{file}.png").read_bytes()) == urls[name]
        svg = (svg_dir / f"{file}.svg").read_bytes()
        assert decode_svg(svg) == urls[name] and "问卷</text>" in svg.decode()


def test_commands_fail_clearly_on_bad_input(tmp_path):
    empty = tmp_path / "empty.db"
    result = run("links", "export", "--db", str(empty), check=False)
    assert result.returncode == 1 and "Error" in result.stderr and "Traceback" not in result.stderr
    run("migrate", "--db", str(empty))
    result = run("links", "export", "--db", str(empty), check=False)
    assert result.returncode == 1 and "还没有调查轮次" in result.stderr
    run("demo", "--no-serve", "--empty", "--db", str(empty))
    result = run("links", "export", "--db", str(empty), "--survey", "99", check=False)
    assert result.returncode == 1 and "99" in result.stderr
    result = run("links", "export", env={"SURVEY_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"}, check=False)
    assert result.returncode == 1 and "无法连接数据库" in result.stderr


def test_demo_serves_a_working_survey_at_the_printed_address(tmp_path):
    with demo_server(tmp_path) as (port, printed):
        url = next(line.split(": ", 1)[1] for line in printed if "家长: " in line)
        assert url.startswith(f"http://127.0.0.1:{port}/s/")
        with urllib.request.urlopen(url, timeout=5) as page:
            assert page.status == 200 and "提交问卷" in page.read().decode()


def links_printed(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if ": http" in line]


def printed(pattern: str, stdout: str) -> str:
    found = re.search(pattern, stdout)
    assert found, f"{pattern!r} not in {stdout}"
    return found.group(1)


def moment(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


async def test_the_demo_fills_its_round_once_and_the_printed_login_reads_the_results(db_args, db_env, settings):
    first = run("demo", "--no-serve", *db_args, env=db_env)
    survey_id = int(printed(r"调查轮次 \(round\) (\d+)", first.stdout))
    answers = int(printed(r"模拟答卷 \(simulated answers\): (\d+) 份", first.stdout))
    assert 1400 <= answers <= 1600
    assert "控制台 (console): http://county.example/console" in first.stdout
    password = printed(r"admin  密码 \(password, shown once\): (\S+)", first.stdout)

    columns = "flags, submitted_at, device_hash, answers, seconds_taken"
    rows = await fetch(settings, f"SELECT {columns} FROM response WHERE survey = ?", survey_id)
    assert len(rows) == answers
    # Last year's round of the county, closed, with answers of its own: the open round's 对比轮次.
    previous = printed(r"上一年度轮次 \(last year's round\) (\d+): (\d+) 份模拟答卷", first.stdout)
    previous_id = int(previous)
    earlier = len(await fetch(settings, "SELECT id FROM response WHERE survey = ?", previous_id))
    assert previous_id != survey_id and 1400 <= earlier <= 1800
    flags = [row["flags"] for row in rows]
    # The stuffing attempts: one phone submitting again and again within minutes.
    assert sum("duplicate_device" in f for f in flags) >= 15 and sum("burst" in f for f in flags) >= 6
    assert sum(bool(f) for f in flags) == int(printed(r"其中 (\d+) 份被标记", first.stdout))
    assert len({row["device_hash"] for row in rows}) > 0.95 * len(rows)
    assert 0.1 < sum('"suggestions"' in row["answers"] for row in rows) / len(rows) < 0.35
    times = sorted(moment(row["submitted_at"]) for row in rows)
    assert timedelta(hours=12) < times[-1] - times[0] <= timedelta(days=1, minutes=5)
    assert times[-1] <= datetime.now(UTC)
    assert 60 < statistics.median(row["seconds_taken"] for row in rows) < 200
    (demo,) = await fetch(settings, "SELECT demo FROM survey WHERE id = ?", survey_id)
    assert demo["demo"]

    verified = run("verify", *db_args, env=db_env)
    assert (
        f"哈希链完整 (chain intact): {answers + earlier} 份答卷" in verified.stdout
        and "统计汇总与答卷一致" in verified.stdout
    )
    report = run("report", *db_args, env=db_env).stdout
    assert "演示数据" in report.splitlines()[0]
    assert 85 <= float(printed(r"全县社会认可度为 \*\*([\d.]+)%", report)) <= 92
    assert "## 与上一轮对比" in report and "显著提高" in report  # the open round is still the newest

    again = run("demo", "--no-serve", *db_args, env=db_env)
    assert f"已有 {answers} 份，未再生成" in again.stdout and "admin 已存在，密码未更改" in again.stdout
    assert len(await fetch(settings, "SELECT id FROM response")) == answers + earlier
    assert f"上一年度轮次 (last year's round) {previous_id}: {earlier} 份" in again.stdout

    async with AsyncTestClient(app=create_app(settings), base_url="http://survey.test") as client:
        assert (await login(client, "admin", "not-the-password")).status_code != 303
        signed_in = await login(client, "admin", password)
        assert signed_in.status_code == 303
        results = await client.get(f"/console/rounds/{survey_id}/results")
        assert results.status_code == 200 and "演示数据" in results.text and "尚无有效答卷" not in results.text
        page = await client.get(f"/console/rounds/{survey_id}/report")
        assert page.status_code == 200 and "演示数据" in page.text
        assert "演示数据" in (await client.get(f"/console/rounds/{survey_id}")).text


def test_demo_empty_starts_without_answers(db_args, db_env, settings):
    done = run("demo", "--no-serve", "--empty", "--admin-password", "demo-pass-1", *db_args, env=db_env)
    assert "--empty" in done.stdout and "密码为 --admin-password 所给" in done.stdout
    assert "shown once" not in done.stdout
    assert asyncio.run(fetch(settings, "SELECT COUNT(*) AS n FROM response"))[0]["n"] == 0


def test_exports_use_the_address_served(db_args, settings, tmp_path):
    """Without SURVEY_PUBLIC_URL the demo prints the export commands with the address it serves; the
    exports take it with --public-url (else SURVEY_PUBLIC_URL), never a built-in 127.0.0.1:8000."""
    env = {"SURVEY_DATABASE_URL": settings.database_url, "SURVEY_PUBLIC_URL": ""}
    port = free_port()
    done = run("demo", "--no-serve", "--empty", "--port", str(port), *db_args, env=env)
    served = f"http://127.0.0.1:{port}"
    assert f"控制台 (console): {served}/console" in done.stdout
    command = printed(r"全部链接 \(all links\): survey-service (.+)", done.stdout).split()
    assert command[-2:] == ["--public-url", served]
    rows = list(csv.DictReader(io.StringIO(run(*command, env=env).stdout)))
    assert len(rows) == 82 and all(r["url"].startswith(f"{served}/s/") for r in rows)

    given = "https://survey.wuqia.example"
    rows = list(csv.DictReader(io.StringIO(run("links", "export", *db_args, "--public-url", given, env=env).stdout)))
    assert all(r["url"].startswith(f"{given}/s/") for r in rows)
    from_env = run("links", "export", *db_args, env={**env, "SURVEY_PUBLIC_URL": given})
    assert all(r["url"].startswith(f"{given}/s/") for r in csv.DictReader(io.StringIO(from_env.stdout)))
    qr_command = printed(r"二维码 \(QR codes\): survey-service (.+)", done.stdout).split()
    run(*qr_command[:-1], str(tmp_path / "qr"), env=env)
    assert decode_png((tmp_path / "qr" / "全县-其他群众.png").read_bytes()).startswith(f"{served}/s/")

    unset = run("links", "export", *db_args, env=env)
    assert "SURVEY_PUBLIC_URL" in unset.stderr and "--public-url" in unset.stderr


def without_codes(links) -> list[dict]:
    """The links a phone answers without a one-time access code (the demo round asks 校长 and
    人大代表/政协委员 for one: tests/respond/test_access_codes.py)."""
    return [link for link in links if link["group"] not in ("principal", "deputy")]


def answer_over_http(port: int, link: dict) -> None:
    """Open a link's page and submit it as a phone would; the thank-you page must come back."""
    url = f"http://127.0.0.1:{port}" + link["url"].removeprefix("http://county.example")
    with urllib.request.urlopen(url, timeout=10) as page:
        html = page.read().decode()
        assert page.status == 200 and link["school_name"] in html
    form = urllib.parse.urlencode(filled_form(html)).encode()
    with urllib.request.urlopen(url, data=form, timeout=10) as thanks:
        assert "/thanks?r=" in thanks.url and "提交成功" in thanks.read().decode()


def writer_pid(server_pid: int) -> int:
    """The SQLite writer process among the server's children (multiprocessing's resource tracker is
    another)."""
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    [writer] = [
        pid
        for pid in children
        if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        and b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    return int(writer)


def test_the_writer_process_ends_when_its_server_is_killed(tmp_path):
    env = {"SURVEY_DATABASE_URL": str(tmp_path / "orphan.db")}
    run("migrate", env=env)
    port = free_port()
    with running(["serve", "--port", str(port)], tmp_path, env) as server:
        wait_for_health(port, server)
        writer = writer_pid(server.pid)
        server.kill()
        server.wait()
        deadline = time.monotonic() + 10
        while Path(f"/proc/{writer}").exists() and b"zombie" not in _state(writer):
            assert time.monotonic() < deadline, "the writer process outlived its server"
            time.sleep(0.2)


def test_serve_stopped_by_a_service_manager_stops_its_writer_and_cleans_up(tmp_path):
    """SIGTERM (systemctl stop): the server exits 0, its writer process ends, and the writer's socket
    directory is removed."""
    env = {"SURVEY_DATABASE_URL": str(tmp_path / "stopped.db"), "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    run("migrate", env=env)
    port = free_port()
    with running(["serve", "--port", str(port)], tmp_path, env) as server:
        wait_for_health(port, server)
        writer = writer_pid(server.pid)
        assert [p.name for p in (tmp_path / "tmp").iterdir()][0].startswith("survey-writer-")
        server.terminate()
        assert server.wait(timeout=30) == 0
    assert not Path(f"/proc/{writer}").exists() or _state(writer) == b"zombie"
    assert list((tmp_path / "tmp").iterdir()) == []


def _state(pid: int) -> bytes:
    try:
        return b"zombie" if Path(f"/proc/{pid}/stat").read_bytes().rpartition(b")")[2].split()[0] == b"Z" else b""
    except OSError:
        return b"zombie"


def test_a_writer_process_that_dies_is_started_again(tmp_path):
    env = {"SURVEY_DATABASE_URL": str(tmp_path / "writer.db"), "SURVEY_PUBLIC_URL": "http://county.example"}
    run("demo", "--no-serve", "--empty", env=env)
    links = without_codes(csv.DictReader(io.StringIO(run("links", "export", env=env).stdout)))
    port = free_port()
    with running(["serve", "--port", str(port)], tmp_path, env) as server:
        wait_for_health(port, server)
        answer_over_http(port, links[0])
        os.kill(writer_pid(server.pid), signal.SIGKILL)
        deadline = time.monotonic() + 30
        while True:  # answers sent while it is down are refused (not acknowledged); then it is back
            try:
                answer_over_http(port, links[1])
                break
            except urllib.error.HTTPError as refused:
                assert refused.code == 503 and "系统繁忙，您的答卷暂未保存" in refused.read().decode()
                assert time.monotonic() < deadline, "the writer process did not come back"
                time.sleep(0.5)
        answer_over_http(port, links[2])
    stored = asyncio.run(fetch(Settings(database_url=env["SURVEY_DATABASE_URL"]), "SELECT COUNT(*) AS n FROM response"))
    assert stored[0]["n"] == 3
    assert "统计汇总与答卷一致" in run("verify", env=env).stdout


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_serve_with_several_workers(backend, request, tmp_path):
    """PostgreSQL takes every worker's writes; on SQLite the workers hand them to one writer process."""
    if backend == "postgres" and not POSTGRES_URL:
        pytest.skip("needs SURVEY_TEST_POSTGRES_URL (always set in CI)")
    database = request.getfixturevalue("postgres_database") if backend == "postgres" else str(tmp_path / "many.db")
    env = {"SURVEY_DATABASE_URL": database, "SURVEY_PUBLIC_URL": "http://county.example"}
    run("demo", "--no-serve", "--empty", env=env)
    links = without_codes(csv.DictReader(io.StringIO(run("links", "export", env=env).stdout)))
    port = free_port()
    with running(["serve", "--workers", "2", "--port", str(port)], tmp_path, env) as server:
        wait_for_health(port, server)
        for link in links[:12]:
            answer_over_http(port, link)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/links/{links[0]['url'][-16:]}") as got:
            assert got.status == 200
    stored = asyncio.run(fetch(Settings(database_url=database), "SELECT COUNT(*) AS n FROM response"))
    assert stored[0]["n"] == 12
    verified = run("verify", env=env)
    assert "哈希链完整 (chain intact): 12 份答卷" in verified.stdout and "统计汇总与答卷一致" in verified.stdout
