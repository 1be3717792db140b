"""Flags, signal hashes, the hash chain, verify and purge, end to end through the answer page."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient

from support.helpers import answer, fetch, link_for, token_of
from survey_service.app import create_app

PHONE_A = "Mozilla/5.0 (Linux; Android 10; V2001A) MicroMessenger/8.0.28"


async def rows(settings) -> list[dict]:
    return await fetch(settings, "SELECT * FROM response ORDER BY id")


async def test_a_device_answering_twice_is_flagged_not_dropped(client, demo_links, settings):
    first = await client.get(f"/s/{token_of(link_for(demo_links, 'parent'))}")
    cookie = first.headers["set-cookie"]
    assert "sv_device=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert await answer(client, link_for(demo_links, "parent"), "mixed") == 303
    assert await answer(client, link_for(demo_links, "parent", "WQ02"), "mixed") == 303
    stored = await rows(settings)
    assert len(stored) == 2
    assert "duplicate_device" not in stored[0]["flags"]
    assert "duplicate_device" in stored[1]["flags"]
    # The device, the address and the browser are kept only as salted hashes.
    assert len(stored[0]["device_hash"]) == 32 and stored[0]["device_hash"] == stored[1]["device_hash"]
    text = str(stored)
    assert "127.0.0.1" not in text and "testclient" not in text.lower()


async def test_straight_lines_and_speeders_are_flagged(client, demo_links, settings):
    # 满意 throughout, answered within a second of opening 15 items: far faster than anyone can read
    # them, so the straight line counts too (a positive one alone would not: tests/respond).
    assert await answer(client, link_for(demo_links, "teacher"), "satisfied") == 303
    [row] = await rows(settings)
    flags = row["flags"].split(",")
    assert "straight_liner" in flags
    assert "speeder" in flags


async def test_one_device_is_limited_and_flagged_but_many_devices_behind_one_address_are_not(demo_links, settings):
    app = create_app(settings)
    async with AsyncTestClient(app=app, base_url="http://survey.test") as one_phone:
        statuses = [await answer(one_phone, link_for(demo_links, "parent"), "mixed") for _ in range(14)]
    assert statuses[:10] == [303] * 10 and set(statuses[10:]) == {429}
    stored = await rows(settings)
    assert len(stored) == 10
    assert all("duplicate_device" in row["flags"] for row in stored[1:])
    assert all("burst" in row["flags"] for row in stored[4:])

    before = len(stored)
    for k in range(12):
        # A new phone each time (a fresh client, a fresh cookie, its own browser), all behind the same address.
        agent = f"Mozilla/5.0 (Linux; Android 12; V20{k:02d}A; wv) MicroMessenger/8.0.{30 + k}"
        async with AsyncTestClient(app=app, base_url="http://survey.test") as phone:
            phone.headers["user-agent"] = agent
            assert await answer(phone, link_for(demo_links, "parent", "WQ03"), "mixed") == 303
    stored = await rows(settings)
    assert len(stored) == before + 12
    assert all(row["flags"] in ("", "speeder") for row in stored[before:])


def service_env(settings) -> dict[str, str]:
    """The environment of a command run on the test database with the test's keys."""
    return {
        **os.environ,
        "SURVEY_DATABASE_URL": settings.database_url,
        "SURVEY_SECRET": settings.secret,
        "SURVEY_SIGNING_KEY_FILE": settings.signing_key_file,
    }


def verify(settings, *more: str) -> subprocess.CompletedProcess:
    args = [] if settings.is_postgres else ["--db", settings.sqlite_path]
    return subprocess.run(
        [sys.executable, "-m", "survey_service", "verify", *args, *more],
        capture_output=True,
        text=True,
        env=service_env(settings),
        cwd=tempfile.gettempdir(),
        timeout=120,
    )


async def test_verify_passes_an_intact_chain_and_names_the_first_changed_response(client, demo_links, settings):
    for group in ("parent", "student", "teacher", "deputy"):
        assert await answer(client, link_for(demo_links, group), "mixed") == 303
    ok = await asyncio.to_thread(verify, settings)
    assert ok.returncode == 0 and "4 份答卷" in ok.stdout

    stored = await rows(settings)
    # Someone quietly turns a 不满意 into 满意 in the database.
    await fetch(settings, "UPDATE response SET recognition = 0.5 WHERE id = ?", stored[2]["id"])
    broken = await asyncio.to_thread(verify, settings)
    assert broken.returncode == 1
    assert f"at response {stored[2]['id']}" in broken.stderr and "content changed" in broken.stderr

    await fetch(settings, "UPDATE response SET recognition = ? WHERE id = ?", stored[2]["recognition"], stored[2]["id"])
    assert (await asyncio.to_thread(verify, settings)).returncode == 0
    await fetch(settings, "DELETE FROM response WHERE id = ?", stored[1]["id"])
    removed = await asyncio.to_thread(verify, settings)
    assert removed.returncode == 1 and f"at response {stored[2]['id']}" in removed.stderr
    # The round's tallies still count the removed answer: verify names the link it belonged to.
    assert f"link {stored[1]['link']}" in removed.stderr and "1 tallied, 0 stored" in removed.stderr
    args = [] if settings.is_postgres else ["--db", settings.sqlite_path]
    env = service_env(settings)
    rebuilt = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "survey_service", "retally", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),
    )
    assert rebuilt.returncode == 0 and "已重建第" in rebuilt.stdout
    after = await asyncio.to_thread(verify, settings)
    assert after.returncode == 1 and "tally disagrees" not in after.stderr and "统计汇总与答卷一致" in after.stdout


async def test_purge_blanks_the_signal_hashes_of_a_round_and_keeps_the_chain(client, demo_links, settings):
    for group in ("parent", "student"):
        assert await answer(client, link_for(demo_links, group), "mixed") == 303
    args = [] if settings.is_postgres else ["--db", settings.sqlite_path]
    env = service_env(settings)

    def run(*a):
        return subprocess.run(
            [sys.executable, "-m", "survey_service", *a],
            capture_output=True,
            text=True,
            env=env,
            cwd=tempfile.gettempdir(),
        )

    purged = await asyncio.to_thread(run, "purge", "--survey", str(demo_links[0].survey), *args)
    assert purged.returncode == 0 and "2 份答卷" in purged.stdout
    for row in await rows(settings):
        assert row["device_hash"] is None and row["network_hash"] is None and row["agent_hash"] is None
    assert (await asyncio.to_thread(verify, settings)).returncode == 0
    missing = await asyncio.to_thread(run, "purge", "--survey", "999", *args)
    assert missing.returncode == 1 and "999" in missing.stderr


async def test_purge_expired_takes_only_rounds_closed_beyond_the_retention(client, demo_links, settings):
    assert await answer(client, link_for(demo_links, "parent"), "mixed") == 303
    args = [] if settings.is_postgres else ["--db", settings.sqlite_path]
    env = {**os.environ, "SURVEY_DATABASE_URL": settings.database_url, "SURVEY_SIGNAL_RETENTION_DAYS": "30"}

    def run(*a):
        return subprocess.run(
            [sys.executable, "-m", "survey_service", *a],
            capture_output=True,
            text=True,
            env=env,
            cwd=tempfile.gettempdir(),
        )

    still_open = await asyncio.to_thread(run, "purge", "--expired", *args)
    assert still_open.returncode == 0 and "nothing to purge" in still_open.stdout
    assert (await rows(settings))[0]["device_hash"] is not None
    closed_long_ago = datetime.now(UTC) - timedelta(days=31)
    await fetch(
        settings, "UPDATE survey SET closes_at = ?, opens_at = ?", closed_long_ago, closed_long_ago - timedelta(days=5)
    )
    purged = await asyncio.to_thread(run, "purge", "--expired", *args)
    assert purged.returncode == 0 and "1 份答卷" in purged.stdout
    assert (await rows(settings))[0]["device_hash"] is None


@pytest.mark.parametrize(
    "peer, forwarded, trusted, expected",
    [
        ("10.0.0.5", "203.0.113.9", "", "10.0.0.5"),  # no trusted proxy: the header is ignored
        ("10.0.0.5", "203.0.113.9", "10.0.0.0/8", "203.0.113.9"),
        ("10.0.0.5", "198.51.100.1, 203.0.113.9", "10.0.0.0/8", "203.0.113.9"),  # the left part can be forged
        ("10.0.0.5", "203.0.113.9, 10.0.0.7", "10.0.0.0/8", "203.0.113.9"),
        ("192.0.2.1", "203.0.113.9", "10.0.0.0/8", "192.0.2.1"),  # not from our proxy: not believed
    ],
)
def test_the_respondent_address_behind_a_trusted_proxy(peer, forwarded, trusted, expected):
    from survey_service.core.network import client_address, parse_networks

    assert client_address(peer, forwarded, parse_networks(trusted)) == expected


async def test_the_results_count_flagged_answers_per_flag_and_exclusions_per_reason(demo_links, settings):
    from survey_service.db.engine import bind, close_pool, make_engine, open_pool
    from survey_service.results.service import round_result
    from survey_service.review.service import decide

    async with AsyncTestClient(app=create_app(settings), base_url="http://survey.test") as client:
        assert await answer(client, link_for(demo_links, "parent"), "satisfied") == 303  # a fast straight line
        assert await answer(client, link_for(demo_links, "student"), "mixed") == 303
        assert await answer(client, link_for(demo_links, "teacher"), "mixed") == 303
    stored = await rows(settings)
    survey = demo_links[0].survey
    # The app ran on its own event loop; the service calls below get an engine on this one.
    engine = bind(make_engine(settings))
    await open_pool(engine)
    try:
        await decide(survey, [stored[1]["id"]], "exclude", "duplicate", "同一学生重复提交", "admin")
        validity = (await round_result(survey)).validity
    finally:
        await close_pool(engine)
    assert validity.returned == 3 and validity.valid == 2
    assert validity.excluded == {"duplicate": 1}
    # All three were answered within a second of opening: all speeders; one also a straight line.
    assert validity.flagged == 3
    assert validity.flags["speeder"] == 3 and validity.flags["straight_liner"] == 1
    assert validity.flags["duplicate_device"] == 2  # one test client is one device


@contextlib.asynccontextmanager
async def running(app):
    """The app's lifespan on this event loop, for calling it over raw ASGI (the test client's peer
    address is not an IP, and its own loop is not this one)."""
    events, shutdown, started = asyncio.Queue(), asyncio.Event(), asyncio.Event()
    events.put_nowait({"type": "lifespan.startup"})

    async def receive():
        if events.empty():
            await shutdown.wait()
            return {"type": "lifespan.shutdown"}
        return events.get_nowait()

    async def send(message):
        if message["type"].startswith("lifespan.startup"):
            started.set()

    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send))
    await started.wait()
    try:
        yield app
    finally:
        shutdown.set()
        await task


async def post_from(app, path: str, form: dict[str, str], peer: str, headers: dict[str, str]) -> int:
    """An answer form posted over ASGI from a given peer address."""
    from urllib.parse import urlencode

    body = urlencode(form).encode()
    raw = [
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"content-length", str(len(body)).encode()),
        *((name.encode(), value.encode()) for name, value in headers.items()),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw,
        "client": (peer, 40000),
        "server": ("survey.test", 80),
        "state": {},
    }
    sent = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


async def test_the_answer_post_finds_the_device_among_a_browsers_cookies_and_the_address_behind_our_proxy(
    demo_links, settings
):
    import msgspec

    from survey_service.core.resources import questionnaires_dir
    from survey_service.questionnaire import load_questionnaires
    from survey_service.respond.nonce import issue_nonce
    from survey_service.respond.signals import new_device_cookie, signal_hashes

    survey = demo_links[0].survey
    social = load_questionnaires(questionnaires_dir())["social"]
    async with running(create_app(msgspec.structs.replace(settings, trusted_proxies="10.0.0.0/8"))) as app:

        async def post(school: str, cookie: str | None, forwarded: str) -> int:
            token = token_of(link_for(demo_links, "parent", school))
            form = {"_nonce": issue_nonce(settings.secret, token)} | {
                item.id: "satisfied" for item in social.rated_items
            }
            headers = {"user-agent": PHONE_A, "x-forwarded-for": forwarded} | ({"cookie": cookie} if cookie else {})
            return await post_from(app, f"/s/{token}", form, "10.0.0.5", headers)

        # WeChat's browser carries cookies of its own around ours.
        signed, phone_1 = new_device_cookie(settings.secret)
        assert await post("WQ01", f"wxuin=1; sv_device={signed}; pgv_pvid=2", "203.0.113.9") == 303
        assert await post("WQ02", f"sv_device={signed}", "198.51.100.7, 203.0.113.10") == 303
        assert await post("WQ03", "wxuin=1", "203.0.113.9") == 303
    first, second, cookieless = await rows(settings)
    assert (
        first["device_hash"]
        == second["device_hash"]
        == signal_hashes(settings.secret, survey, phone_1, None, None).device_hash
    )
    assert "duplicate_device" in second["flags"] and "duplicate_device" not in first["flags"]
    # The address is the client's as our proxy saw it (the rightmost hop it added), never the proxy's.
    assert first["network_hash"] == signal_hashes(settings.secret, survey, None, "203.0.113.9", None).network_hash
    assert second["network_hash"] == signal_hashes(settings.secret, survey, None, "203.0.113.10", None).network_hash
    assert cookieless["device_hash"] is None and cookieless["network_hash"] == first["network_hash"]
    assert first["agent_hash"] == signal_hashes(settings.secret, survey, None, None, PHONE_A).agent_hash


async def test_an_answer_post_with_a_host_the_router_refuses_is_refused_and_stores_nothing(demo_links, settings):
    """The answer post is answered before routing (public/answer_post.py), but a Host header that
    Litestar's router refuses is refused on it too."""
    from survey_service.respond.nonce import issue_nonce

    token = token_of(link_for(demo_links, "parent"))
    async with running(create_app(settings)) as app:
        form = {"_nonce": issue_nonce(settings.secret, token), "school_conduct": "satisfied"}
        assert await post_from(app, f"/s/{token}", form, "203.0.113.9", {"host": "bad host/x"}) == 400
    assert await rows(settings) == []
