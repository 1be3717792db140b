"""The JSON API for the same submission, its OpenAPI document, and the health check."""

from __future__ import annotations

import pytest

from support.access_codes import issue
from support.helpers import fetch, link_for, token_of


@pytest.fixture
def count_responses(settings):
    async def count() -> int:
        return (await fetch(settings, "SELECT COUNT(*) AS n FROM response"))[0]["n"]

    return count


async def open_link(client, link) -> dict:
    got = await client.get(f"/api/v1/links/{token_of(link)}")
    assert got.status_code == 200
    return got.json()


async def test_a_client_reads_the_questionnaire_and_submits_it(client, demo_links, count_responses, settings):
    link = link_for(demo_links, "deputy")
    form = await open_link(client, link)
    assert form["group"] == "deputy" and form["group_label"] == "人大代表/政协委员"
    assert form["school_name"] is None and form["questionnaire_id"] == "social"
    answers = {item["id"]: "basically_satisfied" for item in form["items"] if item["kind"] == "scale"}
    # 人大代表/政协委员 answer with a one-time access code (by default).
    assert form["code_required"] is True
    [code] = await issue(settings, form["token"])
    body = {"token": form["token"], "nonce": form["nonce"], "answers": answers, "access_code": code}
    sent = await client.post("/api/v1/responses", json=body)
    assert sent.status_code == 201, sent.text
    assert sent.json()["status"] == "stored"
    assert await count_responses() == 1
    again = await client.post("/api/v1/responses", json=body)
    assert again.status_code == 409 and again.json()["code"] == "duplicate_submission"
    assert await count_responses() == 1


async def test_invalid_answers_are_named_field_by_field(client, demo_links, count_responses):
    form = await open_link(client, link_for(demo_links, "student"))
    scale_items = [item["id"] for item in form["items"] if item["kind"] == "scale"]
    answers = {item: "satisfied" for item in scale_items[1:]}
    answers[scale_items[1]] = "very_happy"
    answers["not_an_item"] = "satisfied"
    sent = await client.post(
        "/api/v1/responses", json={"token": form["token"], "nonce": form["nonce"], "answers": answers}
    )
    assert sent.status_code == 422
    body = sent.json()
    assert body["code"] == "invalid_answers"
    fields = {error["field"]: error["message"] for error in body["errors"]}
    assert fields == {
        f"answers.{scale_items[0]}": "请回答此题。",
        f"answers.{scale_items[1]}": "所选答案不是本题的选项，请重新选择。",
        "answers.not_an_item": "问卷中没有这道题。",
    }
    assert await count_responses() == 0


@pytest.mark.parametrize(
    "body, field",
    [
        ({"nonce": "n", "answers": {}}, "token"),
        ({"token": "t", "nonce": "n", "answers": {"q": 3}}, "answers"),
        ({"token": "t", "nonce": "n", "answers": {}, "extra": 1}, "extra"),
        ({"token": "t", "nonce": "n", "answers": []}, "answers"),
    ],
)
async def test_malformed_bodies_get_structured_errors(client, body, field, count_responses):
    sent = await client.post("/api/v1/responses", json=body)
    assert sent.status_code == 400
    payload = sent.json()
    assert payload["code"] == "invalid_body"
    assert any(field in error["field"] or field in error["message"] for error in payload["errors"]), payload
    assert await count_responses() == 0


async def test_unknown_token_forged_nonce_and_wrong_media_type(client, demo_links, count_responses):
    sent = await client.post("/api/v1/responses", json={"token": "nope", "nonce": "x", "answers": {}})
    assert sent.status_code == 404 and sent.json()["code"] == "unknown_link"
    form = await open_link(client, link_for(demo_links, "parent"))
    sent = await client.post("/api/v1/responses", json={"token": form["token"], "nonce": "1.2.3", "answers": {}})
    assert sent.status_code == 400 and sent.json()["code"] == "expired_form"
    sent = await client.post("/api/v1/responses", content=b"not json", headers={"content-type": "application/json"})
    assert sent.status_code == 400 and sent.json()["code"] == "invalid_body"
    sent = await client.post("/api/v1/responses", content=b"token=x", headers={"content-type": "text/plain"})
    assert sent.status_code == 415 and sent.json()["code"] == "unsupported_media_type"
    sent = await client.post("/api/v1/responses", content=b"x" * 70_000, headers={"content-type": "application/json"})
    assert sent.status_code == 413 and sent.json()["code"] == "too_large"
    assert await count_responses() == 0


async def test_openapi_documents_the_submission_and_health_answers(client):
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/api/v1/responses" in schema["paths"]
    assert "/api/v1/links/{token}" in schema["paths"]
    components = schema["components"]["schemas"]
    # A struct that refuses unknown fields says so (web/openapi.py); the others leave it open.
    assert components["ResponseSubmission"]["additionalProperties"] is False
    assert "additionalProperties" not in components["ResponseReceipt"]
    health = await client.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
