"""The group-commit writer: every acknowledged answer is stored once, and one bad row costs no other."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timezone

import pytest

from survey_service.db.engine import current_engine
from survey_service.respond.store import response_store
from survey_service.respond.tables import Response
from survey_service.respond.writer import ResponseWriter


def a_response(link_row, **changes) -> dict:
    row = {
        "survey": link_row.survey,
        "link": 1,
        "school": 1,
        "respondent_group": "parent",
        "questionnaire_id": "social",
        "questionnaire_version": "test",
        "answers": '{"overall": "satisfied"}',
        "choices": "0",
        "recognition": 1.0,
        "score": 100.0,
        "submitted_at": datetime.now(timezone.utc),
        "seconds_taken": 60,
        "nonce": uuid.uuid4().hex,
        "valid": True,
        "exclusion": "",
        "flags": set(),
        "device_hash": None,
        "network_hash": None,
        "agent_hash": None,
    }
    return row | changes


@pytest.fixture
async def writer(database):
    started = ResponseWriter(response_store(current_engine()), batch_size=64)
    await started.start()
    yield started
    await started.stop()


async def test_concurrent_answers_are_all_committed_in_batches(writer, demo_links):
    rows = [a_response(demo_links[0]) for _ in range(500)]
    results = await asyncio.gather(*(writer.write(row) for row in rows))
    assert all(results)
    stored = await Response.select(Response.nonce)
    assert sorted(r["nonce"] for r in stored) == sorted(row["nonce"] for row in rows)


async def test_the_same_nonce_twice_in_one_batch_is_stored_once(writer, demo_links):
    row = a_response(demo_links[0])
    results = await asyncio.gather(writer.write(row), writer.write(dict(row)), writer.write(dict(row)))
    assert sorted(results) == [False, False, True]
    assert await Response.count() == 1
    assert await writer.write(dict(row)) is False


async def test_a_bad_row_fails_alone(writer, demo_links):
    good = [a_response(demo_links[0]) for _ in range(20)]
    bad = a_response(demo_links[0], link=987654)  # no such link: the foreign key refuses it
    outcomes = await asyncio.gather(*(writer.write(row) for row in [*good[:10], bad, *good[10:]]), return_exceptions=True)
    assert isinstance(outcomes[10], RuntimeError)
    assert outcomes[:10] + outcomes[11:] == [True] * 20
    assert await Response.count() == 20


async def test_stop_commits_what_is_waiting(database, demo_links):
    writer = ResponseWriter(response_store(current_engine()), batch_size=8)
    await writer.start()
    pending = [asyncio.ensure_future(writer.write(a_response(demo_links[0]))) for _ in range(50)]
    await asyncio.sleep(0)
    await writer.stop()
    assert all(await asyncio.gather(*pending))
    assert await Response.count() == 50
