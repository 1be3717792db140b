"""A Host header with a port: the app tells a real port from one no URL can be made of by itself,
without parsing a URL per request (web/hosts.py); both must still come out as before."""

from __future__ import annotations

import pytest

from support.helpers import link_for, token_of
from survey_service.web.errors import HTTP_MESSAGES as STATUS_MESSAGES


@pytest.mark.parametrize("host", ["survey.example.cn:65536", "127.0.0.1:99999", "127.0.0.1:123456", "a:+1"])
async def test_a_port_beyond_the_last_is_refused_on_the_answer_page_and_post(client, demo_links, host):
    token = token_of(link_for(demo_links, "parent"))
    for method in ("GET", "POST"):
        response = await client.request(
            method,
            f"/s/{token}",
            headers={"host": host, "content-type": "application/x-www-form-urlencoded"},
            content=b"",
        )
        assert response.status_code == 400, (method, host, response.status_code)
        assert STATUS_MESSAGES[400][1] in response.text  # the app's own Chinese 400 page


@pytest.mark.parametrize("host", ["survey.example.cn:65535", "survey.example.cn:8080", "127.0.0.1:00080", "[::1]:8000"])
async def test_a_real_port_serves_the_answer_page(client, demo_links, host):
    token = token_of(link_for(demo_links, "parent"))
    response = await client.get(f"/s/{token}", headers={"host": host})
    assert response.status_code == 200, (host, response.status_code)
    assert 'name="_nonce"' in response.text
