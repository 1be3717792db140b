"""A signed-in bureau account for the results API (restricted to bureau users by the console)."""

from __future__ import annotations

import pytest

from survey_service.accounts.schemas import AccountSpec, Role
from survey_service.accounts.service import add_account

PASSWORD = "results-reader-1"


@pytest.fixture
async def bureau_account(demo_links) -> str:
    """Created before the app starts, on the test's own event loop (like demo_links)."""
    await add_account(AccountSpec(username="reader", role=Role.bureau, school_code=None, password=PASSWORD))
    return "reader"


@pytest.fixture
async def bureau_client(bureau_account, client):
    page = await client.get("/console/login")
    assert page.status_code == 200
    form = {
        "_csrf_token": client.cookies.get("console_csrf", ""),
        "username": bureau_account,
        "password": PASSWORD,
        "next": "/console",
    }
    signed_in = await client.post("/console/login", data=form, follow_redirects=False)
    assert signed_in.status_code in (302, 303), signed_in.text
    return client
