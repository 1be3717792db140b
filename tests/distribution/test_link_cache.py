"""The link cache (issue 13, item 4): a token of no link's shape never reaches it, and a flood of
tokens of the right shape never grows it beyond its bound in bytes, oldest entries leaving first. A
worker reads the open rounds' links when it starts, in one query."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from datetime import UTC, datetime, timedelta

import msgspec
from litestar.testing import AsyncTestClient

from support.clock import Clock
from support.helpers import fetch, token_of
from survey_service.app import create_app
from survey_service.core import cache as cache_module
from survey_service.core.cache import SingleFlightCache, entry_bytes
from survey_service.core.errors import LinkNotFound
from survey_service.distribution import service
from survey_service.distribution.service import REREAD_SHARE, LinkCache, load_link_contexts, new_token, plausible_token
from survey_service.surveys.tables import Survey

TTL = 30.0


def test_only_what_new_token_gives_is_plausible():
    assert all(plausible_token(new_token()) for _ in range(1000))
    for token in [
        "",
        "a" * 15,
        "a" * 17,
        "a" * 5000,
        "abcdefghijklmno\x00",
        "abcdefghijklmno+",
        "中" * 16,
        "abc/efghijklmnop",
    ]:
        assert not plausible_token(token), token


async def test_an_implausible_token_is_refused_before_any_lookup_or_entry():
    cache = LinkCache(60)
    loads = []

    async def load(token: str):
        loads.append(token)
        return None

    cache._cache = SingleFlightCache(load, 60)  # count the loads; the shape check comes before the cache
    for token in ["\x00", "a" * 5000, "%ff"]:
        try:
            await cache.get(token)
        except LinkNotFound:
            pass
        else:
            raise AssertionError(token)
    assert loads == [] and len(cache) == 0 and cache.size_bytes == 0


async def test_a_flood_of_unknown_keys_stays_within_the_byte_bound_oldest_first():
    async def load(key: str) -> None:
        return None

    budget = 200 * entry_bytes("x" * 16)
    cache: SingleFlightCache[str, None] = SingleFlightCache(load, 60, max_bytes=budget)
    await cache.get("kept-first-key!!")
    for _ in range(5_000):
        await cache.get(secrets.token_urlsafe(12))
        assert cache.size_bytes <= budget
    assert 190 <= len(cache) <= 200
    assert "kept-first-key!!" not in cache._entries  # the oldest left first


async def test_a_load_that_fails_is_not_kept_and_frees_its_bytes():
    async def load(key: str) -> None:
        raise RuntimeError("database down")

    cache: SingleFlightCache[str, None] = SingleFlightCache(load, 60)
    for _ in range(3):
        try:
            await cache.get("k")
        except RuntimeError:
            pass
    assert len(cache) == 0 and cache.size_bytes == 0


async def test_a_worker_answers_its_first_phones_from_the_links_it_read_at_start(demo_links, settings):
    """A worker (re)started in the middle of a round holds the round's links from its start: its first
    requests wait on no query per link. Shown by changing a link's token in the database after the
    start: the worker still answers the old token, from what it read then (until the cache's time)."""
    app = create_app(msgspec.structs.replace(settings, link_cache_seconds=60))
    async with AsyncTestClient(app=app, base_url="http://survey.test") as client:
        links = client.app.state.respond.links
        assert len(links) == len(demo_links)
        first = token_of(demo_links[0])
        await fetch(settings, "UPDATE link SET token = ? WHERE token = ?", "renamed-token-16", first)
        page = await client.get(f"/s/{first}")
        assert page.status_code == 200 and "提交" in page.text
        assert len(links) == len(demo_links)  # no entry added: every link was there


async def test_a_closed_rounds_links_are_not_read_at_start(demo_links, settings):
    await Survey.update({Survey.closes_at: datetime.now(UTC) - timedelta(days=1)}).where(
        Survey.id == demo_links[0].survey
    )
    app = create_app(msgspec.structs.replace(settings, link_cache_seconds=60))
    async with AsyncTestClient(app=app, base_url="http://survey.test"):
        assert len(app.state.respond.links) == 0


async def test_a_worker_starts_and_answers_when_the_links_cannot_be_read_at_start(demo_links, settings, monkeypatch):
    reads = []

    async def first_read_fails(where):
        reads.append(where)
        if len(reads) == 1:
            raise sqlite3.OperationalError("disk I/O error")
        return await load_link_contexts(where)

    monkeypatch.setattr(service, "load_link_contexts", first_read_fails)
    app = create_app(msgspec.structs.replace(settings, link_cache_seconds=60))
    async with AsyncTestClient(app=app, base_url="http://survey.test") as client:
        assert len(reads) == 1 and len(app.state.respond.links) == 0  # tried, failed, logged
        page = await client.get(f"/s/{token_of(demo_links[0])}")
        assert page.status_code == 200 and "提交" in page.text


async def test_the_open_rounds_links_are_read_again_together_never_one_by_one(demo_links, monkeypatch):
    """Phones asking for every link all the time, the worker reading the open rounds' links again
    every REREAD_SHARE of the cache time (what keep_fresh does): no link is ever read on its own.
    Without those reads, the links in use are read one by one as they near their end."""
    clock = Clock()
    monkeypatch.setattr(cache_module, "time", clock)
    alone: list[str] = []
    load_one = service.load_link_context

    async def counted(token: str):
        alone.append(token)
        return await load_one(token)

    monkeypatch.setattr(service, "load_link_context", counted)
    tokens = [token_of(link) for link in demo_links]

    async def phones_for(cache_times: float, reread: bool) -> None:
        links = LinkCache(TTL)
        await links.warm()
        start, due = clock.now, clock.now + TTL * REREAD_SHARE
        while clock.now < start + cache_times * TTL:
            clock.now += TTL / 20
            if reread and clock.now >= due:
                assert len(await links.warm()) == len(tokens)
                due += TTL * REREAD_SHARE
            for token in tokens:
                await links.get(token)

    await phones_for(4, reread=True)
    assert alone == []
    await phones_for(2, reread=False)
    assert set(alone) == set(tokens)


async def test_keep_fresh_reads_the_links_again_and_again_until_cancelled(demo_links, monkeypatch):
    reads = []

    async def counted(where):
        reads.append(where)
        return await load_link_contexts(where)

    monkeypatch.setattr(service, "load_link_contexts", counted)
    links = LinkCache(0.1)  # a read every 0.1 × REREAD_SHARE seconds
    rereading = asyncio.create_task(links.keep_fresh())
    await asyncio.sleep(0.5)
    rereading.cancel()
    assert len(reads) >= 3 and len(links) == len(demo_links)
    count = len(reads)
    await asyncio.sleep(0.2)
    assert len(reads) == count
