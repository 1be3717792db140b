"""The login lockout against parallel guessing on a live server with two web workers, on SQLite and
PostgreSQL: 99 wrong passwords and the right one at guess #60, all sent at once from one address.
The lockout is taken before a password is checked, so at most FREE_FAILURES are answered 用户名或
密码错误 (or earn the lockout), every other guess is locked out, and none gets a 500; twice that if
the right password is among the guesses checked, since a successful login clears the counts."""

from __future__ import annotations

import asyncio
import re

import httpx

from support.helpers import free_port, running, wait_for_health
from survey_service.accounts.service import FREE_FAILURES

PASSWORD = "right-password-123"


async def guess_all_at_once(base: str, passwords: list[str]) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        page = await client.get("/console/login")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
        form = {"_csrf_token": token, "username": "chief", "next": "/console"}
        return list(
            await asyncio.gather(*(client.post("/console/login", data=form | {"password": p}) for p in passwords))
        )


def test_a_hundred_parallel_guesses_on_two_workers_are_locked_out(settings, tmp_path):
    env = {"SURVEY_DATABASE_URL": settings.database_url, "SURVEY_SECRET": "race-test-secret"}
    with running(["migrate"], tmp_path, env) as done:
        done.wait(timeout=120)
    with running(
        ["user", "add", "--username", "chief", "--role", "bureau", "--password", PASSWORD], tmp_path, env
    ) as done:
        assert done.wait(timeout=120) == 0
    port = free_port()
    with running(["serve", "--port", str(port), "--workers", "2"], tmp_path, env) as server:
        wait_for_health(port, server)
        guesses = [f"wrong-guess-{k}" for k in range(99)]
        guesses.insert(59, PASSWORD)
        responses = asyncio.run(guess_all_at_once(f"http://127.0.0.1:{port}", guesses))
    statuses = [r.status_code for r in responses]
    assert max(statuses) < 500, statuses
    wrong = [r for r in responses if r.status_code == 401]
    locked = [r for r in responses if r.status_code == 429]
    signed_in = [r for r in responses if r.status_code == 303]
    # Checked: the wrong guesses answered 401, the one that earned the lockout, and a success if any.
    # A correct password clears the counts (accounts/service.py authenticate): when the right guess
    # is checked among the first free ones (the two workers take the guesses in no fixed order), the
    # guesses after it count afresh, so up to twice as many wrong ones are checked, never more.
    free = (FREE_FAILURES - 1) * (2 if signed_in else 1)
    assert len(wrong) <= free, statuses
    assert len(locked) == len(guesses) - len(wrong) - len(signed_in), statuses  # every other guess locked out
    assert len(signed_in) <= 1
    assert all("锁定" in r.text for r in locked) and all("用户名或密码错误" in r.text for r in wrong)
