"""Console fixtures: the demo round with a bureau account and two school operators."""

from __future__ import annotations

import pytest

from support.console_session import PASSWORD
from survey_service.accounts.schemas import AccountSpec, Role
from survey_service.accounts.service import add_account

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
