"""The hash chain's content hash: the same answer hashes the same as it always has."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from msgspec.structs import replace

from survey_service.ledger.chain import CONTENT_FIELDS, content_hash, hash_content
from survey_service.ledger.store import COLUMNS
from survey_service.respond.schemas import AnswerRow

ROW = AnswerRow(
    survey=3,
    link=17,
    school=None,
    respondent_group="parent",
    questionnaire_id="social",
    questionnaire_version="2026.1",
    answers='{"q1": "satisfied", "suggestions": "多开展亲子活动"}',
    choices="01-t",
    recognition=0.75,
    score=87.5,
    submitted_at=datetime(2030, 5, 10, 17, 30, 0, 123456, tzinfo=timezone(timedelta(hours=8))),
    seconds_taken=None,
    nonce="n-1",
    valid=True,
    exclusion="",
    flags="burst,speeder",
    device_hash=None,
    network_hash=None,
    agent_hash=None,
)


def test_an_answer_row_has_every_stored_column_but_the_id():
    assert sorted(AnswerRow.__struct_fields__) == sorted(COLUMNS)


def test_the_content_hash_is_the_one_stored_chains_were_sealed_with():
    # Computed by the sealing code before answers became AnswerRow structs (a dict per row).
    assert content_hash(ROW) == "0e18de3a55889de2176c5a6f45d2d81f8961ad75cfcc9285842765629ff7dc6e"


def test_the_same_instant_in_another_zone_and_the_stored_values_hash_the_same():
    in_utc = replace(ROW, submitted_at=ROW.submitted_at.astimezone(UTC))
    assert content_hash(in_utc) == content_hash(ROW)
    stored = {name: getattr(ROW, name) for name in CONTENT_FIELDS}
    assert hash_content([stored[name] for name in CONTENT_FIELDS]) == content_hash(ROW)


def test_review_decisions_and_signal_hashes_are_not_content():
    changed = replace(ROW, valid=False, exclusion="organised", device_hash="d" * 32, network_hash="n" * 32)
    assert content_hash(changed) == content_hash(ROW)
    assert content_hash(replace(ROW, flags="speeder")) != content_hash(ROW)
