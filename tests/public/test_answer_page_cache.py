"""The answer page is rendered once per link, questionnaire version and language and served from
there (public/form_page.py): gzipped for a phone that takes gzip, the same page plain for one that
does not, every request with its own nonce and device cookie, and a change to the round shown at
once."""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import zlib

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from support.helpers import fetch, filled_form, link_for, nonce_of, token_of
from survey_service.app import create_app
from survey_service.public.form_page import FormPage, accepts_gzip
from survey_service.respond.nonce import check_nonce
from survey_service.respond.signals import DEVICE_COOKIE, verify_device_cookie

NONCE = re.compile(r'name="_nonce" value="[^"]+"')


async def raw_get(client, path: str, accept_encoding: str | None) -> tuple[dict, bytes]:
    """The response's headers and its body exactly as sent (httpx would decompress it)."""
    headers = {"accept-encoding": accept_encoding} if accept_encoding is not None else {}
    async with client.stream("GET", path, headers=headers) as response:
        assert response.status_code == 200
        return dict(response.headers), b"".join([chunk async for chunk in response.aiter_raw()])


def strict_gunzip(body: bytes) -> bytes:
    """One whole gzip member and nothing after it (a browser's decoder is no more lenient)."""
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    page = decoder.decompress(body) + decoder.flush()
    assert decoder.eof and not decoder.unused_data
    assert gzip.decompress(body) == page
    return page


async def test_a_phone_that_takes_gzip_gets_the_same_page_compressed(client, demo_links):
    for group in ("parent", "principal"):  # the principal's page asks for an access code first
        path = f"/s/{token_of(link_for(demo_links, group))}"
        zipped_headers, zipped = await raw_get(client, path, "gzip, deflate, br")
        client.cookies.clear()  # another new phone
        plain_headers, plain = await raw_get(client, path, "identity")
        assert zipped_headers["content-encoding"] == "gzip" and "content-encoding" not in plain_headers
        page = strict_gunzip(zipped).decode()
        assert NONCE.sub("", page) == NONCE.sub("", plain.decode()) and NONCE.search(page)
        assert len(zipped) <= 5 * 1024 < len(plain), len(zipped)
        assert int(zipped_headers["content-length"]) == len(zipped)
        for headers in (zipped_headers, plain_headers):
            # A cache between must keep the two apart; everything else as on every answer page.
            assert headers["vary"] == "accept-encoding" and headers["cache-control"] == "no-store"
            assert headers["content-type"] == "text/html; charset=utf-8"
            assert "frame-ancestors 'none'" in headers["content-security-policy"]
            assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"
            assert headers["set-cookie"].startswith(f"{DEVICE_COOKIE}=") and "HttpOnly" in headers["set-cookie"]
            assert "SameSite=lax" in headers["set-cookie"]
        client.cookies.clear()


@pytest.mark.parametrize(
    ("accept_encoding", "gzipped"),
    [
        (None, False),  # the header absent
        ("identity", False),
        ("br", False),
        ("gzip;q=0, deflate", False),
        ("*;q=0", False),
        ("GZIP", True),
        ("deflate, gzip;q=0.5", True),
        ("x-gzip", True),
        ("*", True),
        ("br, *;q=0.1", True),
    ],
)
def test_gzip_only_when_the_request_accepts_it(accept_encoding, gzipped):
    assert accepts_gzip(accept_encoding or "") is gzipped


async def test_without_accept_encoding_the_page_is_plain_and_works(client, demo_links):
    token = token_of(link_for(demo_links, "parent"))
    # httpx sends "gzip, deflate" unless told otherwise; a request without the header gets it plain.
    client.headers.pop("accept-encoding", None)
    headers, body = await raw_get(client, f"/s/{token}", None)
    assert "content-encoding" not in headers and body.startswith(b"<!doctype html>")
    posted = await client.post(f"/s/{token}", data=filled_form(body.decode()), follow_redirects=False)
    assert posted.status_code == 303


async def test_every_request_gets_its_own_nonce_bound_to_its_own_device(client, demo_links, settings):
    token = token_of(link_for(demo_links, "parent"))
    seen = set()
    for _ in range(3):
        client.cookies.clear()  # each a new phone
        page = await client.get(f"/s/{token}")
        device = verify_device_cookie(settings.secret, page.cookies[DEVICE_COOKIE])
        nonce = nonce_of(page.text)
        assert check_nonce(settings.secret, token, nonce, 60, device_id=device.id).bound
        seen.add(nonce)
    assert len(seen) == 3


async def test_the_page_shows_a_change_to_the_round_at_once(client, demo_links, settings):
    link = link_for(demo_links, "parent")
    path = f"/s/{token_of(link)}"
    first = (await client.get(path)).text
    assert "乌恰县第一小学" in first and 'id="access_code"' not in first
    await fetch(settings, "UPDATE school SET name = ? WHERE code = ?", "乌恰县实验小学", "WQ01")
    renamed = (await client.get(path)).text
    assert "乌恰县实验小学" in renamed and "乌恰县第一小学" not in renamed
    await fetch(settings, "UPDATE survey SET title = ? WHERE id = ?", "2027年社会认可度调查", link.survey)
    assert "2027年社会认可度调查" in (await client.get(path)).text
    # The round now asks parents for an access code: the page asks for it at once.
    await fetch(settings, "UPDATE survey SET access_code_groups = ? WHERE id = ?", json.dumps(["parent"]), link.survey)
    assert 'id="access_code"' in (await client.get(path)).text
    await fetch(settings, "UPDATE survey SET closes_at = opens_at WHERE id = ?", link.survey)
    closed = await client.get(path)
    assert closed.status_code == 403 and "结束" in closed.text and 'name="_nonce"' not in closed.text


async def test_a_translated_page_is_its_own_page(client, demo_links):
    """?lang= names a shipped translation or gets 简体中文: each language's page rendered once."""
    token = token_of(link_for(demo_links, "parent"))
    chinese = (await client.get(f"/s/{token}")).text
    unknown = (await client.get(f"/s/{token}?lang=xx")).text
    assert NONCE.sub("", unknown) == NONCE.sub("", chinese) and '<html lang="zh-CN"' in chinese


@pytest.mark.parametrize("nonce", [b"", b"n", b"6744a1b2.abcdefghijklmnop.AbCdEfGh.0123456789abcdefghijkl", b"x" * 300])
def test_the_spliced_gzip_is_the_page_for_any_nonce(nonce):
    """The deflate blocks prepared around the nonce decode to exactly the page, whatever its length."""
    page = FormPage(
        "<!doctype html><p>" + "满意 比较满意 不满意 " * 200 + '<input name="_nonce" value="NonceSlot9f2c4e1a7b">'
        "<p>" + "满意 基本满意 " * 50 + "</html>"
    )
    assert strict_gunzip(page.gzipped(nonce)) == page.plain(nonce)
    assert page.plain(nonce).count(nonce) >= 1


async def test_the_page_is_alike_on_either_of_its_two_paths(client, demo_links):
    """GET /s/{token} is answered before routing (public/form_get.py); with a trailing slash it goes
    through Litestar's route handler. The same page, headers and refusals either way."""
    token = token_of(link_for(demo_links, "parent"))
    pages = []
    for path in (f"/s/{token}", f"/s/{token}/"):
        client.cookies.clear()
        headers, body = await raw_get(client, path, "gzip")
        pages.append(NONCE.sub("", strict_gunzip(body).decode()))
        assert headers["content-encoding"] == "gzip" and headers["vary"] == "accept-encoding"
        assert "content-security-policy" in headers and headers["set-cookie"].startswith(f"{DEVICE_COOKIE}=")
        for query in ("?again=abc", "?again=", "?again=1.5"):
            refused = await client.get(path + query)
            assert refused.status_code == 400 and "content-security-policy" in refused.headers, (path, query)
        assert (await client.get(f"{path}?again=0&lang=xx")).status_code == 200
    assert pages[0] == pages[1]
    missing = await client.get("/s/AAAAAAAAAAAAAAAA")
    assert missing.status_code == 404 and "content-security-policy" in missing.headers


async def test_a_worker_renders_the_open_links_forms_before_the_first_phone(demo_links, settings):
    """A worker (re)started in the middle of a round renders its open links' forms as it starts
    (public/answer_page.py render_forms_ahead): its first phones wait on no render, and get the very
    page a worker that caches nothing renders when asked. (One app after the other: the database
    engine is the process's.)"""
    paths = [f"/s/{token_of(link_for(demo_links, group))}" for group in ("parent", "principal", "deputy")]

    async def pages_of(app) -> list[str]:
        async with AsyncTestClient(app=app, base_url="http://survey.test") as client:
            got = []
            for path in paths:
                got.append(NONCE.sub("", (await raw_get(client, path, "identity"))[1].decode()))
                client.cookies.clear()  # another new phone
            return got

    ahead = create_app(msgspec.structs.replace(settings, link_cache_seconds=60))
    async with AsyncTestClient(app=ahead, base_url="http://survey.test"):
        for _ in range(100):
            if len(ahead.state.form_pages) == len(demo_links):
                break
            await asyncio.sleep(0.05)
        # Every link of the open demo round, before any was asked for.
        assert len(ahead.state.form_pages) == len(demo_links)
    rendered_ahead = await pages_of(ahead)
    assert len(ahead.state.form_pages) == len(demo_links)  # nothing rendered for those requests
    on_demand = create_app(settings)  # settings' cache time is 0: nothing read or rendered ahead
    assert await pages_of(on_demand) == rendered_ahead and all("提交" in page for page in rendered_ahead)
