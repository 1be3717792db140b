"""Fuzzing with a bounded number of examples: the API against its OpenAPI schema (no 5xx, responses
as documented), and the form parser and questionnaire loader against arbitrary input."""

from __future__ import annotations

import sqlite3
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import hypothesis.strategies as st
import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from support.helpers import demo_server
from survey_service.app import create_app
from survey_service.core.resources import questionnaires_dir
from survey_service.core.settings import Settings
from survey_service.questionnaire import QuestionnaireError, load_questionnaire


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    directory = tmp_path_factory.mktemp("fuzz")
    with demo_server(directory) as (port, printed):
        parent_url = next(line.split(": ", 1)[1] for line in printed if "· 家长: " in line)
        yield port, directory / "demo.db", parent_url


def openapi_document() -> dict:
    """The document the app serves at /schema/openapi.json, built without a database."""
    with tempfile.TemporaryDirectory() as directory:
        return create_app(Settings(database_url=f"{directory}/schema.db")).openapi_schema.to_schema()


schema = schemathesis.openapi.from_dict(openapi_document())


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_never_fails_and_answers_as_documented(case, demo):
    port, _, _ = demo
    case.call_and_validate(base_url=f"http://127.0.0.1:{port}")


FORM_KEYS = st.sampled_from(["_nonce", "_lang", "moral_education", "overall", "suggestions", "x", "", "a[b]"])


def post_form(url: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, headers={"content-type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def count_responses(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT COUNT(*) FROM response").fetchone()[0]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=st.one_of(
        st.binary(max_size=600),
        st.lists(st.tuples(FORM_KEYS, st.text(max_size=40)), max_size=8).map(
            lambda pairs: "&".join(f"{k}={v}" for k, v in pairs).encode("utf-8", "surrogatepass")
        ),
    )
)
def test_the_answer_form_refuses_anything_malformed_without_storing(demo, body):
    _, db, url = demo
    before = count_responses(db)
    status = post_form(url, body)
    assert status in (400, 422), status
    assert count_responses(db) == before


@settings(max_examples=80, deadline=None)
@given(text=st.text(max_size=400))
def test_the_questionnaire_loader_fails_only_with_a_clear_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("q") / "fuzzed.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    with pytest.raises(QuestionnaireError, match="fuzzed.toml"):
        load_questionnaire(path)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_shipped_questionnaire_with_one_field_broken_is_refused_naming_the_file(tmp_path_factory, data):
    source = msgspec.toml.decode((questionnaires_dir() / "social.toml").read_bytes())
    field = data.draw(st.sampled_from(["id", "version", "title", "groups", "scale", "items"]))
    source[field] = data.draw(st.one_of(st.integers(), st.just([]), st.just(""), st.just({"x": 1})))
    path = tmp_path_factory.mktemp("q") / "broken.toml"
    path.write_bytes(msgspec.toml.encode(source))
    with pytest.raises(QuestionnaireError, match="broken.toml"):
        load_questionnaire(path)
