"""Answers from elsewhere (RespondService.submit_external): checked and scored like any answer, stored
once per key with their source, chained (the chain verifies, and online answers hash as before),
tallied and counted by source in validity; refused once the round's results were handed in."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from support.helpers import fetch, link_for, token_of
from survey_service.core import keys
from survey_service.core.errors import InvalidAnswers, RoundSealed
from survey_service.core.resources import questionnaires_dir
from survey_service.db.engine import current_engine
from survey_service.distribution.service import LinkCache
from survey_service.integrity.service import verify_chain, verify_tallies
from survey_service.ledger.chain import CONTENT_FIELDS, content_hash
from survey_service.ledger.store import response_store
from survey_service.ledger.writer import ResponseWriter
from survey_service.questionnaire import load_questionnaires
from survey_service.respond.schemas import AnswerRow
from survey_service.respond.service import RespondService
from survey_service.respond.sources import Source
from survey_service.results.service import round_result
from survey_service.surveys.tables import Survey

QUESTIONNAIRES = load_questionnaires(questionnaires_dir())
SOCIAL = QUESTIONNAIRES["social"]


@pytest.fixture
async def service(database, demo_links):
    writer = ResponseWriter(response_store(current_engine()))
    await writer.start()
    respond = RespondService(database, LinkCache(0), QUESTIONNAIRES, writer)
    yield respond
    await writer.stop()
    await respond.close()


def answers(option: str = "satisfied", **overrides: str) -> dict[str, str]:
    return {item.id: option for item in SOCIAL.rated_items} | overrides


async def test_stored_once_per_key_with_its_source_and_counted_by_source(service, demo_links, database, monkeypatch):
    monkeypatch.setenv("SURVEY_SECRET", database.secret)
    parent = token_of(link_for(demo_links, "parent"))
    when = datetime(2026, 5, 11, 2, 0, tzinfo=UTC)
    given = answers(moral_education="dissatisfied", equity_policy="unknown")
    assert await service.submit_external(parent, "wjx:1:7:abc", given, source=Source.wjx, submitted_at=when, seconds=95)
    # The same key again (a re-import): nothing stored, no error.
    assert not await service.submit_external(parent, "wjx:1:7:abc", given, source=Source.wjx, submitted_at=when)
    # A paper form leaving a required item blank is taken as unanswered, not refused.
    paper = answers()
    del paper["overall"]
    assert await service.submit_external(parent, "paper:1:0001", paper, source=Source.paper, submitted_at=when)
    with pytest.raises(InvalidAnswers) as refused:
        await service.submit_external(
            parent, "paper:1:0002", answers(overall="maybe"), source=Source.paper, submitted_at=when
        )
    assert refused.value.errors == {"overall": "所选答案不是本题的选项，请重新选择。"}
    rows = await fetch(
        database,
        "SELECT nonce, source, recognition, seconds_taken, flags, device_hash, network_hash FROM response ORDER BY id",
    )
    assert [(r["nonce"], r["source"]) for r in rows] == [("wjx:1:7:abc", "wjx"), ("paper:1:0001", "paper")]
    # y: 11 of the 12 rated answers are 认可 (不了解 left out); no device or network signal, no flag.
    assert rows[0]["recognition"] == pytest.approx(11 / 12) and rows[0]["seconds_taken"] == 95
    assert all(
        r["device_hash"] is None and r["network_hash"] is None and r["flags"] in ("", "straight_liner") for r in rows
    )
    result = await round_result(demo_links[0].survey)
    assert result.validity.sources == {"online": 0, "wjx": 1, "paper": 1}
    chain = await verify_chain(key=keys.chain_key(database))
    assert chain.intact and chain.checked == 2
    assert await verify_tallies() == {}


def test_online_answers_hash_as_before_the_source_existed():
    row = AnswerRow(
        survey=1,
        link=2,
        school=3,
        respondent_group="parent",
        questionnaire_id="social",
        questionnaire_version="2026.1",
        answers="{}",
        recognition=1.0,
        choices="",
        score=100.0,
        submitted_at=datetime(2026, 5, 11, tzinfo=UTC),
        seconds_taken=60,
        nonce="n",
        valid=True,
        exclusion="",
        flags="",
        device_hash=None,
        network_hash=None,
        agent_hash=None,
    )
    # The hash a row had before `source` existed (the other fields, in order), kept by an online answer.
    before = [getattr(row, name) for name in CONTENT_FIELDS if name != "source"]
    assert content_hash(row) == hashlib.sha256(msgspec.json.encode(before)).hexdigest()
    imported = AnswerRow(**{**{f: getattr(row, f) for f in row.__struct_fields__}, "source": "wjx"})
    assert content_hash(imported) != content_hash(row)


async def test_a_round_handed_in_takes_no_more(service, demo_links, database):
    survey_id = demo_links[0].survey
    now = datetime.now(UTC)
    await Survey.update({Survey.closes_at: now - timedelta(hours=1), Survey.exported_at: now}).where(
        Survey.id == survey_id
    )
    with pytest.raises(RoundSealed) as refused:
        await service.submit_external(
            token_of(link_for(demo_links, "parent")), "wjx:x", answers(), source=Source.wjx, submitted_at=now
        )
    assert "结果已导出为迎检材料" in refused.value.message
    # A closed round not yet handed in still takes them (a county brings its data after the survey).
    await Survey.update({Survey.exported_at: None}).where(Survey.id == survey_id)
    assert await service.submit_external(
        token_of(link_for(demo_links, "parent")), "wjx:y", answers(), source=Source.wjx, submitted_at=now
    )
