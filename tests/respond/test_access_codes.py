"""One-time access codes (访问码): a 校长 or 人大代表/政协委员 link admits an answer only with a code of
that link, each code exactly one stored answer, refused with a Chinese message otherwise; codes
kept only as keyed hashes. On both backends (PostgreSQL when SURVEY_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import asyncio
import html
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from support.access_codes import issue
from support.helpers import fetch, filled_form, link_for, token_of
from survey_service.core.resources import questionnaires_dir
from survey_service.db.engine import current_engine
from survey_service.demo.county import DEPUTIES
from survey_service.demo.simulate import fill_demo_round
from survey_service.distribution.access_codes import ALPHABET, code_hash, display, normalise, well_formed
from survey_service.distribution.service import load_link_context
from survey_service.ledger.store import response_store
from survey_service.ledger.writer import ResponseWriter
from survey_service.questionnaire import load_questionnaires
from survey_service.respond import access
from survey_service.respond.schemas import AnswerRow


def test_codes_are_short_unambiguous_and_typed_in_any_form():
    assert not set("0O1IL") & set(ALPHABET)
    assert normalise(" k7m4 - q9rx ") == "K7M4Q9RX" and well_formed("K7M4Q9RX")
    assert normalise("Ｋ７Ｍ４－Ｑ９ＲＸ") == "K7M4Q9RX"  # full-width, as a Chinese input method types it
    assert display("K7M4Q9RX") == "K7M4-Q9RX"
    assert not well_formed("K7M4Q9R0") and not well_formed("K7M4Q9R")
    # Keyed: the same code hashes differently under another secret, and never to itself.
    assert code_hash("a", "K7M4Q9RX") != code_hash("b", "K7M4Q9RX")
    assert "K7M4Q9RX" not in code_hash("a", "K7M4Q9RX")


async def responses(settings, token: str) -> list[dict]:
    return await fetch(
        settings,
        "SELECT r.nonce, r.access_code_hash FROM response r JOIN link l ON l.id = r.link WHERE l.token = ?",
        token,
    )


# The device cookie each opened form was issued with, by its nonce: a form is bound to its device.
PHONES: dict[str, str] = {}


async def open_form(client, token: str) -> str:
    """A fresh form, as another person's phone opens it (no device cookie)."""
    client.cookies.clear()
    page = await client.get(f"/s/{token}")
    assert page.status_code == 200
    PHONES[re.search(r'name="_nonce" value="([^"]+)"', page.text).group(1)] = client.cookies["sv_device"]
    return page.text


async def post(client, token: str, form: dict):
    """The form sent from the phone that opened it."""
    cookie = PHONES.get(form.get("_nonce", ""))
    headers = {"cookie": f"sv_device={cookie}"} if cookie else {}
    client.cookies.clear()
    return await client.post(f"/s/{token}", data=form, headers=headers, follow_redirects=False)


def hashed(settings, code: str) -> str:
    return code_hash(settings.secret, normalise(code))


def refusal(page) -> str:
    return html.unescape(page.text)


async def test_a_principal_link_asks_for_a_code_and_each_code_stores_one_answer(client, demo_links, settings):
    token = token_of(link_for(demo_links, "principal"))
    page = await open_form(client, token)
    assert 'name="access_code"' in page and "访问码" in page
    assert page.index('id="access_code"') < page.index('type="radio"')  # asked first
    assert len(page.encode()) <= 16 * 1024  # the answer page's budget, with the code field
    assert 'name="access_code"' not in await open_form(client, token_of(link_for(demo_links, "parent")))

    # Without a code: the form again, the code field marked, nothing stored.
    form = filled_form(page)
    missing = await post(client, token, form)
    assert missing.status_code == 422
    assert 'class="bad"' in missing.text and access.MISSING in refusal(missing)
    assert await responses(settings, token) == []

    [code, other] = await issue(settings, token, 2)
    stored = await post(client, token, form | {"access_code": code.lower().replace("-", " ")})
    assert stored.status_code == 303 and "/thanks" in stored.headers["location"]
    assert "repeat=1" not in stored.headers["location"]
    rows = await responses(settings, token)
    assert [row["access_code_hash"] for row in rows] == [code_hash(settings.secret, normalise(code))]

    # The same code on a fresh form (another person): refused, nothing more stored.
    again = await post(client, token, filled_form(await open_form(client, token), access_code=code))
    assert again.status_code == 422 and access.USED in refusal(again)
    # The code is kept in the field, to be corrected.
    assert f'value="{code}"' in again.text
    assert len(await responses(settings, token)) == 1

    # A second code: a second answer.
    assert (
        await post(client, token, filled_form(await open_form(client, token), access_code=other))
    ).status_code == 303
    assert len(await responses(settings, token)) == 2


async def test_unknown_malformed_voided_and_other_group_codes_are_refused(client, demo_links, settings):
    token = token_of(link_for(demo_links, "principal", "WQ01"))
    [other_school] = await issue(settings, token_of(link_for(demo_links, "principal", "WQ02")))
    [deputy] = await issue(settings, token_of(link_for(demo_links, "deputy")))
    [voided] = await issue(settings, token)
    await fetch(settings, "UPDATE access_code SET voided = ? WHERE code_hash = ?", True, hashed(settings, voided))
    cases = {
        other_school: access.OTHER_LINK,
        deputy: access.OTHER_LINK,
        voided: access.VOIDED,
        "ABCD-EFGH": access.UNKNOWN,
        "K7M4-Q9R0": access.MALFORMED,
    }
    for code, message in cases.items():
        page = await post(client, token, filled_form(await open_form(client, token), access_code=code))
        assert page.status_code == 422 and message in refusal(page), code
    assert await responses(settings, token) == []


async def test_a_double_clicked_submit_with_one_code_stores_one_answer(client, demo_links, settings):
    token = token_of(link_for(demo_links, "deputy"))
    [code] = await issue(settings, token)
    form = filled_form(await open_form(client, token), access_code=code)
    first, second = await asyncio.gather(post(client, token, form), post(client, token, form))
    assert {first.status_code, second.status_code} == {303}
    assert sorted("repeat=1" in r.headers["location"] for r in (first, second)) == [False, True]
    # And once more, after it was stored: the "already submitted" page, not a refusal.
    third = await post(client, token, form)
    assert third.status_code == 303 and "repeat=1" in third.headers["location"]
    assert len(await responses(settings, token)) == 1


async def test_racing_answers_with_one_code_store_one_in_the_writer(client, demo_links, settings):
    """Two forms with one code reaching the ledger together (the service's check passed for both):
    the ledger stores one and refuses the other as used."""
    token = token_of(link_for(demo_links, "principal"))
    [code] = await issue(settings, token)
    forms = [filled_form(await open_form(client, token), access_code=code) for _ in range(6)]
    pages = await asyncio.gather(*(post(client, token, form) for form in forms))
    assert sorted(page.status_code for page in pages) == [303] + [422] * 5
    assert all(access.USED in refusal(page) for page in pages if page.status_code == 422)
    assert len(await responses(settings, token)) == 1


def answer_row(link, nonce: str, code: str | None) -> AnswerRow:
    return AnswerRow(
        survey=link.survey_id,
        link=link.link_id,
        school=link.school_id,
        respondent_group=link.group.value,
        questionnaire_id="staff",
        questionnaire_version="test",
        answers="{}",
        recognition=None,
        choices="",
        score=None,
        submitted_at=datetime.now(UTC),
        seconds_taken=None,
        nonce=nonce,
        valid=True,
        exclusion="",
        flags="",
        device_hash=None,
        network_hash=None,
        agent_hash=None,
        access_code_hash=code,
    )


async def test_the_ledger_refuses_a_stored_code_and_the_database_refuses_a_duplicate(database, demo_links):
    link = await load_link_context(token_of(link_for(demo_links, "principal")))
    writer = ResponseWriter(response_store(current_engine()))
    await writer.start()
    try:
        assert await writer.write(answer_row(link, "form-1", "a" * 32)) is True
        # Another form with a code already stored: not stored, as a repeated nonce is not.
        assert await writer.write(answer_row(link, "form-2", "a" * 32)) is False
        # Two forms with one code in one batch: the first is stored.
        rows = [answer_row(link, "form-3", "b" * 32), answer_row(link, "form-4", "b" * 32)]
        assert await writer.write_many(rows) == [True, False]
        # Answers without a code are not limited by it.
        assert await writer.write_many([answer_row(link, f"plain-{i}", None) for i in range(2)]) == [True, True]
    finally:
        await writer.stop()
    # Past the ledger, the unique index itself refuses a second answer with a code.
    with pytest.raises(Exception, match="(?i)unique"):
        await fetch(
            database,
            "INSERT INTO response (survey, link, respondent_group, questionnaire_id, questionnaire_version, answers, "
            "submitted_at, nonce, access_code_hash) SELECT survey, link, respondent_group, questionnaire_id, "
            "questionnaire_version, answers, submitted_at, 'form-5', access_code_hash FROM response WHERE nonce = 'form-1'",
        )
    stored = await fetch(database, "SELECT nonce FROM response ORDER BY id")
    assert [row["nonce"] for row in stored] == ["form-1", "form-3", "plain-0", "plain-1"]


async def test_codes_are_stored_only_as_keyed_hashes(client, demo_links, settings):
    token = token_of(link_for(demo_links, "principal"))
    codes = await issue(settings, token, 5)
    await post(client, token, filled_form(await open_form(client, token), access_code=codes[0]))
    forms = {code for code in codes} | {normalise(code) for code in codes} | {code.lower() for code in codes}
    if settings.database_url.startswith("postgresql"):
        rows = await fetch(settings, "SELECT CAST(a.* AS TEXT) AS row FROM access_code a")
        rows += await fetch(settings, "SELECT CAST(r.* AS TEXT) AS row FROM response r")
        text = " ".join(row["row"] for row in rows)
    else:
        await fetch(settings, "PRAGMA wal_checkpoint(FULL)")
        path = Path(settings.database_url)
        text = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*")).decode("latin-1")
    assert len(await fetch(settings, "SELECT id FROM access_code")) == 5
    assert not [form for form in forms if form in text]
    assert code_hash(settings.secret, normalise(codes[0])) in text


async def test_the_api_takes_the_code_and_names_its_field(client, demo_links, settings):
    token = token_of(link_for(demo_links, "principal"))
    form = (await client.get(f"/api/v1/links/{token}")).json()
    assert form["code_required"] is True
    answers = {item["id"]: "satisfied" for item in form["items"] if item["kind"] == "scale"}
    body = {"token": token, "nonce": form["nonce"], "answers": answers}
    refused = await client.post("/api/v1/responses", json=body | {"access_code": "ABCD-EFGH"})
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_access_code"
    assert refused.json()["errors"] == [{"field": "access_code", "message": access.UNKNOWN}]
    [code] = await issue(settings, token)
    assert (await client.post("/api/v1/responses", json=body | {"access_code": code})).status_code == 201
    fresh = (await client.get(f"/api/v1/links/{token}")).json()
    used = await client.post("/api/v1/responses", json=body | {"nonce": fresh["nonce"], "access_code": code})
    assert used.status_code == 422 and used.json()["errors"][0]["message"] == access.USED


async def test_the_demo_fills_principals_and_deputies_with_codes_it_issued_itself(database, demo_links):
    survey = demo_links[0].survey
    filled = await fill_demo_round(database, survey, load_questionnaires(questionnaires_dir()))
    assert filled.answers > 1000
    coded = await fetch(
        database, "SELECT access_code_hash FROM response WHERE respondent_group IN ('principal', 'deputy')"
    )
    assert coded and all(row["access_code_hash"] for row in coded)
    assert len({row["access_code_hash"] for row in coded}) == len(coded)
    assert (
        await fetch(
            database, "SELECT id FROM response WHERE respondent_group = 'parent' AND access_code_hash IS NOT NULL"
        )
        == []
    )
    counts = await access.code_counts(survey)
    deputy = await load_link_context(token_of(link_for(demo_links, "deputy")))
    assert counts[deputy.link_id].issued == DEPUTIES and counts[deputy.link_id].used == 90
    assert sum(c.used for c in counts.values()) == len(coded)


async def test_purge_blanks_the_code_hashes_once_the_round_has_closed(client, demo_links, settings):
    """While the round is open the hash keeps each code to one answer; after it closes, `purge` blanks
    it, so no one who knows which slip went to whom can find that principal's answer."""
    from datetime import timedelta

    from support.helpers import services
    from survey_service.integrity.service import purge_signals

    token = token_of(link_for(demo_links, "principal"))
    [code] = await issue(settings, token, 1)
    assert (await post(client, token, filled_form(await open_form(client, token), access_code=code))).status_code == 303
    survey = demo_links[0].survey
    async with services(settings):
        await purge_signals(survey)
    assert [row["access_code_hash"] for row in await responses(settings, token)] == [hashed(settings, code)]
    closed = datetime.now(UTC) - timedelta(days=1)
    await fetch(
        settings,
        "UPDATE survey SET opens_at = ?, closes_at = ? WHERE id = ?",
        closed - timedelta(days=5),
        closed,
        survey,
    )
    async with services(settings):
        assert await purge_signals(survey) >= 1
    assert [row["access_code_hash"] for row in await responses(settings, token)] == [None]
