"""The answer form's body parser reads what a browser sends exactly as the standard library would,
and refuses what no browser sends."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from survey_service.public.forms import parse_urlencoded

fields = st.lists(st.tuples(st.text(min_size=1), st.text()), max_size=20)


@given(fields)
def test_parses_any_browser_encoded_form_as_parse_qsl_does(pairs):
    for body in (urlencode(pairs), urlencode(pairs).replace("+", "%20")):
        assert parse_urlencoded(body.encode()) == parse_qsl(body, keep_blank_values=True) == pairs


def test_bare_keys_empty_parts_bad_utf8_and_too_many_fields():
    assert parse_urlencoded(b"a&&b=&c=1+2%2B3") == [("a", ""), ("b", ""), ("c", "1 2+3")]
    with pytest.raises(UnicodeDecodeError):
        parse_urlencoded(b"a=%ff%fe")
    with pytest.raises(UnicodeDecodeError):
        parse_urlencoded(b"a=\xff")
    assert len(parse_urlencoded(b"a=1" + b"&" * 199)) == 1
    with pytest.raises(ValueError):
        parse_urlencoded(b"a=1" + b"&" * 200)
