"""The group-commit writer: every acknowledged answer is stored once, and one bad row costs no other."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from datetime import UTC, datetime

import pytest
from msgspec.structs import replace

from survey_service.db.engine import current_engine
from survey_service.ledger.store import response_store
from survey_service.ledger.writer import ResponseWriter
from survey_service.respond.quality import Flag, join_flags
from survey_service.respond.schemas import AnswerRow
from survey_service.respond.tables import Response


def a_response(link_row, **changes) -> AnswerRow:
    row = AnswerRow(
        survey=link_row.survey,
        link=1,
        school=1,
        respondent_group="parent",
        questionnaire_id="social",
        questionnaire_version="test",
        answers='{"overall": "satisfied"}',
        choices="0",
        recognition=1.0,
        score=100.0,
        submitted_at=datetime.now(UTC),
        seconds_taken=60,
        nonce=uuid.uuid4().hex,
        valid=True,
        exclusion="",
        flags="",
        device_hash=None,
        network_hash=None,
        agent_hash=None,
    )
    return replace(row, **changes)


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
    assert sorted(r["nonce"] for r in stored) == sorted(row.nonce for row in rows)


async def test_the_same_nonce_twice_in_one_batch_is_stored_once(writer, demo_links):
    row = a_response(demo_links[0])
    results = await asyncio.gather(writer.write(row), writer.write(replace(row)), writer.write(replace(row)))
    assert sorted(results) == [False, False, True]
    assert await Response.count() == 1
    assert await writer.write(replace(row)) is False


async def test_a_bad_row_fails_alone(writer, demo_links):
    good = [a_response(demo_links[0], flags=join_flags({Flag.speeder, Flag.straight_liner})) for _ in range(20)]
    bad = a_response(demo_links[0], link=987654)  # no such link: the foreign key refuses it
    outcomes = await asyncio.gather(
        *(writer.write(row) for row in [*good[:10], bad, *good[10:]]), return_exceptions=True
    )
    assert isinstance(outcomes[10], RuntimeError)
    assert outcomes[:10] + outcomes[11:] == [True] * 20
    assert await Response.count() == 20
    # Retried one by one after the batch failed, each keeps the flags it came with.
    assert {row["flags"] for row in await Response.select(Response.flags)} == {"speeder,straight_liner"}


async def test_the_callers_rows_are_left_as_they_came(writer, demo_links):
    """The store flags and seals copies: a row retried after a failed batch is planned afresh."""
    first, again = (a_response(demo_links[0], device_hash="d" * 32) for _ in range(2))
    assert await writer.write(first) and await writer.write(again)
    assert (again.flags, again.content_hash, again.chain_hash) == ("", "", "")
    stored = await Response.select(Response.flags, Response.content_hash).order_by(Response.id)
    assert [row["flags"] for row in stored] == ["", Flag.duplicate_device]
    assert all(len(row["content_hash"]) == 64 for row in stored)


async def test_stop_commits_what_is_waiting(database, demo_links):
    writer = ResponseWriter(response_store(current_engine()), batch_size=8)
    await writer.start()
    pending = [asyncio.ensure_future(writer.write(a_response(demo_links[0]))) for _ in range(50)]
    await asyncio.sleep(0)
    await writer.stop()
    assert all(await asyncio.gather(*pending))
    assert await Response.count() == 50


@pytest.mark.parametrize("backend", ["sqlite"])  # the writer process serves SQLite only
async def test_through_the_writer_process_each_row_ends_as_it_would_locally(backend, database, demo_links, tmp_path):
    """The SQLite writer process's protocol: stored, refused (a bad row), already stored, each told apart."""
    from survey_service.ledger.writer_process import RemoteResponseStore, _serve

    stop, socket_path = asyncio.Event(), tmp_path / "writer.sock"
    served = asyncio.create_task(_serve(database.sqlite_path, str(socket_path), 64, stop))
    while not socket_path.exists():
        await asyncio.sleep(0.01)
    web = ResponseWriter(RemoteResponseStore(str(socket_path)), batch_size=64)
    await web.start()
    try:
        good = [a_response(demo_links[0], flags=join_flags({Flag.speeder})) for _ in range(6)]
        bad = a_response(demo_links[0], link=987654)
        outcomes = await asyncio.gather(
            *(web.write(row) for row in [*good, bad, replace(good[0])]), return_exceptions=True
        )
        assert outcomes[:6] == [True] * 6 and outcomes[7] is False  # the repeat of a stored nonce
        assert isinstance(outcomes[6], RuntimeError)
    finally:
        await web.stop()
        stop.set()
        await served
    assert {row["flags"] for row in await Response.select(Response.flags)} == {"speeder"}
    assert await Response.count() == 6


@pytest.mark.parametrize("backend", ["sqlite"])  # the writer process serves SQLite only
@pytest.mark.parametrize("commits", [True, False], ids=["committed", "not committed"])
async def test_a_writer_gone_silent_after_the_batch_is_sent(backend, database, demo_links, tmp_path, commits):
    """The writer process takes a batch and dies before replying: answers it committed are
    acknowledged (the database says so); the others are told to retry (503), never lost silently."""
    from survey_service.core.errors import StorageUnavailable
    from survey_service.ledger.store import SQLiteResponseStore
    from survey_service.ledger.writer_process import REQUESTS, RemoteResponseStore, _receive

    store = SQLiteResponseStore(database.sqlite_path)

    async def silent_writer(reader, stream):
        rows = (await _receive(reader, REQUESTS)).rows
        if commits:
            await store.insert(rows)
        stream.close()  # no reply

    socket_path = tmp_path / "silent.sock"
    server = await asyncio.start_unix_server(silent_writer, path=str(socket_path))
    web = ResponseWriter(RemoteResponseStore(str(socket_path)), batch_size=64)
    await web.start()
    try:
        rows = [a_response(demo_links[0]) for _ in range(3)]
        outcomes = await asyncio.gather(*(web.write(row) for row in rows), return_exceptions=True)
    finally:
        await web.stop()
        server.close()
        await store.close()
    if commits:
        assert outcomes == [True] * 3 and await Response.count() == 3
    else:
        assert all(isinstance(o, StorageUnavailable) for o in outcomes) and await Response.count() == 0


@pytest.mark.parametrize("backend", ["sqlite"])  # holds SQLite's write lock from outside
async def test_an_answer_queued_while_the_last_batch_commits_is_committed_too(backend, database, demo_links, settings):
    writer = ResponseWriter(response_store(current_engine()), batch_size=8)
    await writer.start()
    blocker = sqlite3.connect(settings.sqlite_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    first = asyncio.ensure_future(writer.write(a_response(demo_links[0])))
    stopping = asyncio.ensure_future(writer.stop())  # queued right behind the first answer
    await asyncio.sleep(0.3)  # the last batch now waits for the write lock
    late = asyncio.ensure_future(writer.write(a_response(demo_links[0])))
    await asyncio.sleep(0.05)
    blocker.execute("ROLLBACK")
    blocker.close()
    await asyncio.wait_for(stopping, 30)
    assert await asyncio.wait_for(first, 1) is True
    assert await asyncio.wait_for(late, 1) is True
    assert await Response.count() == 2
