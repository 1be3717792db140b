"""A batch too large for SQLite to keep its statement journal in 64 KiB (which it used to spill to a
temporary file; ledger/store.py keeps it in memory now) still undoes a refused row's statement: the
batch fails as a whole and its good rows are stored one by one, none twice, none lost."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from survey_service.db.engine import current_engine
from survey_service.ledger.store import response_store
from survey_service.ledger.writer import ResponseWriter
from survey_service.respond.schemas import AnswerRow
from survey_service.respond.tables import Response


def a_response(survey: int, link: int = 1, signals: bool = True) -> AnswerRow:
    """A parent's answer with a long comment and, unless told otherwise, its own device, address and browser."""
    return AnswerRow(
        survey=survey,
        link=link,
        school=1,
        respondent_group="parent",
        questionnaire_id="social",
        questionnaire_version="test",
        answers='{"comment": "' + "很好" * 400 + '"}',
        choices="0",
        recognition=1.0,
        score=100.0,
        submitted_at=datetime.now(UTC),
        seconds_taken=60,
        nonce=uuid.uuid4().hex,
        valid=True,
        exclusion="",
        flags="",
        device_hash=uuid.uuid4().hex if signals else None,
        network_hash=uuid.uuid4().hex if signals else None,
        agent_hash=uuid.uuid4().hex if signals else None,
    )


async def test_a_large_batch_with_a_bad_row_stores_every_good_row_once(database, demo_links):
    writer = ResponseWriter(response_store(current_engine()), batch_size=512)
    await writer.start()
    try:
        good = [a_response(demo_links[0].survey) for _ in range(300)]
        bad = a_response(demo_links[0].survey, link=987654, signals=False)  # no such link: the foreign key refuses it
        outcomes = await asyncio.gather(*(writer.write(row) for row in [*good, bad]), return_exceptions=True)
    finally:
        await writer.stop()
    assert isinstance(outcomes[-1], RuntimeError)
    assert outcomes[:-1] == [True] * len(good)
    stored = await Response.select(Response.nonce)
    assert sorted(row["nonce"] for row in stored) == sorted(row.nonce for row in good)
