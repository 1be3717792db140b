"""Console fixtures: the demo round with a bureau account and two school operators, and log-in helpers."""

from __future__ import annotations

import re

import pytest

from survey_service.accounts.schemas import AccountSpec, Role
from survey_service.accounts.service import add_account

PASSWORD = "correct-horse-1"
ACCOUNTS = {
    "chief": (Role.bureau, None),
    "op01": (Role.school, "WQ01"),
    "op02": (Role.school, "WQ02"),
}


@pytest.fixture
async def accounts(demo_links) -> dict[str, int]:
    """Created before the app starts (on the test's own event loop, like demo_links)."""
    return {
        name: await add_account(AccountSpec(username=name, role=role, school_code=code, password=PASSWORD))
        for name, (role, code) in ACCOUNTS.items()
    }


@pytest.fixture
async def console(accounts, client):
    return client


def csrf_of(client) -> str:
    return client.cookies.get("console_csrf", "")


async def login(client, username: str, password: str = PASSWORD):
    client.cookies.clear()
    page = await client.get("/console/login")
    assert page.status_code == 200
    form = {"_csrf_token": csrf_of(client), "username": username, "password": password, "next": "/console"}
    return await client.post("/console/login", data=form, follow_redirects=False)


async def post_form(client, path: str, fields: dict | None = None, files=None):
    data = {"_csrf_token": csrf_of(client), **(fields or {})}
    return await client.post(path, data=data, files=files, follow_redirects=False)


def demo_round_id(html: str) -> int:
    return int(re.search(r'href="/console/rounds/(\d+)"', html).group(1))
