"""A signed-in bureau account for the results API (restricted to bureau users by the console); the demo
round with stored answers for the command-line reports."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from support.respondents import random_respondents, store
from survey_service.accounts.schemas import AccountSpec, Role
from survey_service.accounts.service import add_account
from survey_service.core.resources import questionnaires_dir
from survey_service.db.engine import bind, close_pool, make_engine, open_pool
from survey_service.demo.county import demo_schools
from survey_service.demo.service import ensure_demo_round
from survey_service.questionnaire import load_questionnaires

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


@pytest.fixture
def answered_round(settings) -> int:
    """The demo round with 300 stored answers (set up outside any running event loop)."""

    async def prepare() -> int:
        engine = bind(make_engine(settings))
        await open_pool(engine)
        try:
            survey_id = await ensure_demo_round(load_questionnaires(questionnaires_dir()))
        finally:
            await close_pool(engine)
        codes = [s.code for s in demo_schools()]
        await store(settings, survey_id, random_respondents(np.random.default_rng(11), 300, codes))
        return survey_id

    return asyncio.run(prepare())
