"""Accounts: log in and out, sessions in the database, CSRF on console forms, throttling, the CLI."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from support.console_session import PASSWORD, csrf_of, login, post_form
from support.helpers import fetch, filled_form, link_for
from survey_service.accounts import service as accounts_service
from survey_service.accounts.errors import LoginFailed, LoginLocked
from survey_service.accounts.passwords import verify_password
from survey_service.accounts.service import FREE_ACCOUNT_FAILURES, FREE_FAILURES, lockout
from survey_service.app import create_app
from survey_service.cli import main as cli


async def test_anonymous_visitors_get_the_login_page(console):
    response = await console.get("/console/rounds/1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=/console/rounds/1"
    page = await console.get("/console", follow_redirects=True)
    assert page.status_code == 200
    assert 'name="username"' in page.text and 'type="password"' in page.text
    assert "控制台登录" in page.text


async def test_a_bureau_user_logs_in_and_out(console, settings):
    wrong = await login(console, "chief", "not-the-password")
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    before = console.cookies.get("console_session")
    response = await login(console, "chief")
    assert response.status_code == 303 and response.headers["location"] == "/console"
    # A fresh session id at login (no fixation), and its data lives in the database.
    session_id = console.cookies.get("console_session")
    assert session_id and session_id != before
    assert await fetch(settings, "SELECT key FROM console_session WHERE key = ?", session_id)
    home = await console.get("/console")
    assert home.status_code == 200 and "乌恰县义务教育优质均衡发展社会认可度调查" in home.text
    assert "chief" in home.text

    logout = await post_form(console, "/console/logout")
    assert logout.status_code == 303 and logout.headers["location"] == "/console/login"
    assert not await fetch(settings, "SELECT key FROM console_session WHERE key = ?", session_id)
    # The old cookie opens nothing any more.
    console.cookies.set("console_session", session_id)
    again = await console.get("/console", follow_redirects=False)
    assert again.status_code == 303


async def test_a_session_is_shared_by_every_worker(console, settings):
    await login(console, "chief")
    cookie = console.cookies.get("console_session")
    # Another worker: a second app on the same database knows the session.
    async with AsyncTestClient(app=create_app(settings), base_url="http://survey.test") as other:
        other.cookies.set("console_session", cookie)
        page = await other.get("/console", follow_redirects=False)
        assert page.status_code == 200 and "chief" in page.text


async def test_forms_without_a_csrf_token_are_refused_and_change_nothing(console, settings):
    await login(console, "chief")
    before = await fetch(settings, "SELECT COUNT(*) AS n FROM survey")
    fields = {"title": "伪造", "region": "某县", "opens_at": "2030-01-01T08:00", "closes_at": "2030-01-05T08:00"}
    for token in (None, "forged-token"):
        data = fields | ({"_csrf_token": token} if token else {})
        response = await console.post("/console/rounds", data=data, follow_redirects=False)
        assert response.status_code == 403
        assert "安全校验未通过" in response.text and "没有做任何修改" in response.text
    assert await fetch(settings, "SELECT COUNT(*) AS n FROM survey") == before
    # The login form needs the token too.
    response = await console.post("/console/login", data={"username": "chief", "password": PASSWORD})
    assert response.status_code == 403


async def test_the_respondent_paths_need_no_csrf_token_and_get_no_console_cookie(console, demo_links):
    token = link_for(demo_links, "parent").url.rsplit("/", 1)[1]
    console.cookies.clear()
    page = await console.get(f"/s/{token}")
    cookies = page.headers.get_list("set-cookie")
    assert not [c for c in cookies if c.startswith(("console_session", "console_csrf"))]
    response = await console.post(f"/s/{token}", data=filled_form(page.text), follow_redirects=False)
    assert response.status_code == 303 and f"/s/{token}/thanks?r=" in response.headers["location"]
    api = await console.get(f"/api/v1/links/{token}")
    body = {"token": token, "nonce": api.json()["nonce"], "answers": {}}
    response = await console.post("/api/v1/responses", json=body)
    assert response.status_code != 403


async def test_repeated_failures_lock_the_login_for_a_while(console):
    for _ in range(FREE_FAILURES - 1):
        assert (await login(console, "op01", "wrong-password")).status_code == 401
    locked = await login(console, "op01", "wrong-password")
    assert locked.status_code == 429 and "锁定" in locked.text
    # Even the right password waits for the lock to pass.
    still = await login(console, "op01")
    assert still.status_code == 429
    # Another account is not locked by op01's failures.
    assert (await login(console, "op02")).status_code == 303


async def guess_all_at_once(console, username: str, passwords: list[str]) -> list[int]:
    """Every password posted to the login form at the same time, from one address; the statuses."""
    console.cookies.clear()
    await console.get("/console/login")
    form = {"_csrf_token": csrf_of(console), "username": username, "next": "/console"}
    posts = [console.post("/console/login", data=form | {"password": p}, follow_redirects=False) for p in passwords]
    return [response.status_code for response in await asyncio.gather(*posts)]


async def test_a_hundred_parallel_guesses_get_at_most_the_free_failures_evaluated(console, monkeypatch):
    """99 wrong passwords and the right one at guess #60, all at once: the lockout is taken before any
    password is checked, so at most FREE_FAILURES are checked, the rest are locked out; never a 500."""
    checked: list[str] = []

    def counting(stored_hash, password):  # the real check, counted
        checked.append(password)
        return verify_password(stored_hash, password)

    monkeypatch.setattr(accounts_service, "verify_password", counting)
    guesses = [f"wrong-guess-{k}" for k in range(99)]
    guesses.insert(59, PASSWORD)
    statuses = await guess_all_at_once(console, "op01", guesses)
    assert len(checked) <= FREE_FAILURES, len(checked)
    assert set(statuses) <= {401, 429, 303} and statuses.count(429) >= 100 - FREE_FAILURES
    assert statuses.count(303) == (PASSWORD in checked)


async def test_an_account_is_throttled_across_addresses(accounts, monkeypatch):
    checked: list[str] = []

    def counting(stored_hash, password):
        checked.append(password)
        return verify_password(stored_hash, password)

    monkeypatch.setattr(accounts_service, "verify_password", counting)
    outcomes = []
    for k in range(FREE_ACCOUNT_FAILURES + 10):
        # A new address each time, as a botnet's would be: the per-account slots still run out.
        try:
            await accounts_service.authenticate("op01", f"guess-{k}", f"10.0.{k}.1")
        except (LoginFailed, LoginLocked) as exc:
            outcomes.append(type(exc))
    assert len(checked) == FREE_ACCOUNT_FAILURES
    assert outcomes.count(LoginLocked) == 11 and outcomes.count(LoginFailed) == FREE_ACCOUNT_FAILURES - 1


def test_the_lockout_doubles_up_to_an_hour():
    assert lockout(FREE_FAILURES - 1) is None
    assert lockout(FREE_FAILURES) == timedelta(seconds=30)
    assert lockout(FREE_FAILURES + 1) == timedelta(seconds=60)
    assert lockout(FREE_FAILURES + 50) == timedelta(hours=1)


async def test_next_never_leads_outside_the_console(console):
    console.cookies.clear()
    await console.get("/console/login")
    form = {"_csrf_token": csrf_of(console), "username": "chief", "password": PASSWORD, "next": "//evil.example/x"}
    response = await console.post("/console/login", data=form, follow_redirects=False)
    assert response.headers["location"] == "/console"


def _accounts(db) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(db) as connection:
        return connection.execute(
            "SELECT username, role, school_code, password_hash FROM account ORDER BY id"
        ).fetchall()


def test_user_add_and_the_demo_admin_password(tmp_path):
    db = str(tmp_path / "cli.db")
    runner = CliRunner()
    result = runner.invoke(cli, ["demo", "--no-serve", "--db", db, "--admin-password", "first-password"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["demo", "--no-serve", "--db", db, "--admin-password", "second-password"])
    assert result.exit_code == 0, result.output
    (admin,) = _accounts(db)
    assert admin[:3] == ("admin", "bureau", None) and verify_password(admin[3], "second-password")
    # Not only on the command line (other users of the machine can read argv): from the environment
    # or from a file.
    result = runner.invoke(
        cli, ["demo", "--no-serve", "--empty", "--db", db], env={"SURVEY_ADMIN_PASSWORD": "third-pass"}
    )
    assert result.exit_code == 0, result.output
    assert verify_password(_accounts(db)[0][3], "third-pass")
    secret = tmp_path / "admin-password.txt"
    secret.write_text("fourth-pass\n", encoding="utf-8")
    result = runner.invoke(cli, ["demo", "--no-serve", "--empty", "--db", db, "--admin-password-file", str(secret)])
    assert result.exit_code == 0, result.output
    assert verify_password(_accounts(db)[0][3], "fourth-pass")

    result = runner.invoke(
        cli, ["user", "add", "--db", db, "--username", "wq01", "--role", "school", "--school", "WQ01"]
    )
    assert result.exit_code == 0, result.output
    generated = re.search(r"初始密码 \(password, shown once\): (\S+)", result.output).group(1)
    assert verify_password(_accounts(db)[1][3], generated)
    result = runner.invoke(
        cli, ["user", "add", "--db", db, "--username", "boss", "--role", "bureau", "--password", "pw-of-boss-1"]
    )
    assert result.exit_code == 0 and "初始密码" not in result.output

    for args, message in [
        (["--username", "wq01", "--role", "school", "--school", "WQ01"], "已存在"),
        (["--username", "x", "--role", "school"], "必须指定学校代码"),
        (["--username", "y", "--role", "bureau", "--password", "short"], "密码至少 8 个字符"),
        (["--username", "z", "--role", "bureau", "--school", "WQ01"], "不属于某一所学校"),
    ]:
        result = runner.invoke(cli, ["user", "add", "--db", db, *args])
        assert result.exit_code != 0 and message in result.output
    assert len(_accounts(db)) == 3


async def test_anonymous_visits_store_no_session(console, settings):
    console.cookies.clear()
    for _ in range(3):
        assert (await console.get("/console/login")).status_code == 200
    assert not await fetch(settings, "SELECT key FROM console_session")
