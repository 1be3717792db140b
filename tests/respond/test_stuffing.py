"""Stuffing control (issue 13 item 1): the server's signed device cookie, forms bound to it, new
devices churning flagged, and rate limits shared by every app instance and worker (in the database,
or in Redis when SURVEY_REDIS_URL is set), never refusing on the address alone."""

from __future__ import annotations

import asyncio
import os
import uuid

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from support.helpers import fetch, filled_form, free_port, link_for, nonce_of, running, token_of, wait_for_health
from survey_service.app import create_app
from survey_service.core.errors import ExpiredForm
from survey_service.respond.limits import Attempt, RedisLimits
from survey_service.respond.nonce import check_nonce, issue_nonce
from survey_service.respond.quality import CHURN_COUNT, DEVICE_LIMIT, FLAG_LABELS, FLAG_RULES, Flag
from survey_service.respond.signals import new_device_cookie, verify_device_cookie

REDIS_URL = os.environ.get("SURVEY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
SECRET = "x" * 40
AGENT = "Mozilla/5.0 (Linux; Android 12; V2055A; wv) MicroMessenger/8.0.42"


async def stored(settings, token: str) -> list[dict]:
    return await fetch(
        settings,
        "SELECT response.flags, response.device_hash FROM response JOIN link ON link.id = response.link "
        "WHERE link.token = ? ORDER BY response.id",
        token,
    )


def redis_available() -> bool:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return True
    except redis.RedisError:
        return False


@pytest.fixture
def redis_url() -> str:
    """The Redis on this machine (database 15, flushed). In CI an unreachable Redis fails the test."""
    if not redis_available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis at {REDIS_URL} is unreachable (CI=true: Redis is tested for real)")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    return REDIS_URL


def test_only_a_cookie_the_server_signed_names_a_device():
    value, device = new_device_cookie(SECRET)
    assert verify_device_cookie(SECRET, value).id == device
    forged = f"{uuid.uuid4().hex}.{value.split('.', 1)[1]}"  # another id under the same signature
    for bad in ("", "phone-1", uuid.uuid4().hex, forged, value + "x", "é" + value, value.replace(".", "", 1)):
        assert verify_device_cookie(SECRET, bad) is None, bad
    assert verify_device_cookie("another-secret-" * 3, value) is None
    # Expired: issued more than a year ago; from the future: not ours.
    old, _ = new_device_cookie(SECRET, now=1_000_000)
    assert verify_device_cookie(SECRET, old) is None
    ahead, _ = new_device_cookie(SECRET, now=4_000_000_000)
    assert verify_device_cookie(SECRET, ahead) is None


def test_a_nonce_is_bound_to_its_device_and_never_raises_on_odd_text():
    nonce = issue_nonce(SECRET, "tok", device_id="device-a")
    assert len(nonce) <= 64
    assert check_nonce(SECRET, "tok", nonce, 3600, device_id="device-a").bound
    # Sent back without any device cookie: accepted, and known to be bound (flagged by the service).
    assert check_nonce(SECRET, "tok", nonce, 3600, device_id=None).bound
    with pytest.raises(ExpiredForm):
        check_nonce(SECRET, "tok", nonce, 3600, device_id="device-b")
    for odd in ("é" * 10, nonce[:-1] + "é", "１２.３.４", "\x00.\x00.\x00", "a.b.c.d.e", "zz.salt.sig"):
        with pytest.raises(ExpiredForm):
            check_nonce(SECRET, "tok", odd, 3600)
    legacy = issue_nonce(SECRET, "tok")  # as issued before forms were bound: any device
    assert not check_nonce(SECRET, "tok", legacy, 3600, device_id="device-b").bound


def test_the_new_flag_has_its_label_and_rule():
    assert Flag.device_churn.value == "device_churn"
    assert FLAG_LABELS[Flag.device_churn] and "设备" in FLAG_RULES[Flag.device_churn]


async def test_forged_cookies_count_as_none_and_forms_are_bound_to_their_device(demo_links, settings):
    app = create_app(settings)
    token = token_of(link_for(demo_links, "parent"))
    async with AsyncTestClient(app=app, base_url="http://survey.test") as phone:
        # A made-up cookie is not ours: the page sets a signed one.
        phone.cookies.set("sv_device", "phone-1")
        page = await phone.get(f"/s/{token}")
        signed = page.cookies.get("sv_device")
        assert signed and verify_device_cookie(settings.secret, signed) is not None
        form = filled_form(page.text)
        # Sent back with another device's valid cookie: refused, nothing stored.
        other, _ = new_device_cookie(settings.secret)
        phone.cookies.clear()
        refused = await phone.post(f"/s/{token}", data=form, headers={"cookie": f"sv_device={other}"})
        assert refused.status_code == 400
        # Sent back with a made-up cookie: taken as an answer without a device, and flagged.
        made_up = await phone.post(
            f"/s/{token}", data=form, headers={"cookie": "sv_device=phone-1"}, follow_redirects=False
        )
        assert made_up.status_code == 303
        # A non-ASCII nonce is a clear 400, never a 500, and stores nothing.
        odd = await phone.post(
            f"/s/{token}", data=form | {"_nonce": "é" * 20}, headers={"cookie": f"sv_device={signed}"}
        )
        assert odd.status_code == 400 and "过期" in odd.text
        api = await phone.post(
            "/api/v1/responses", json={"token": token, "nonce": "ü.ü.ü", "answers": {}}, headers={"cookie": ""}
        )
        assert 400 <= api.status_code < 500
    [row] = await stored(settings, token)
    assert row["device_hash"] is None and row["flags"].split(",").count("device_churn") == 1


async def test_new_devices_churning_from_one_address_and_browser_are_flagged(demo_links, settings):
    app = create_app(settings)
    token = token_of(link_for(demo_links, "parent", "WQ05"))
    for _ in range(CHURN_COUNT + 2):
        # A browser clearing its cookies before each form: a new signed cookie each time, same browser.
        async with AsyncTestClient(app=app, base_url="http://survey.test") as phone:
            phone.headers.update({"user-agent": AGENT, "accept-language": "zh-CN,zh;q=0.9"})
            page = await phone.get(f"/s/{token}")
            assert (
                await phone.post(f"/s/{token}", data=filled_form(page.text), follow_redirects=False)
            ).status_code == 303
    rows = await stored(settings, token)
    churned = ["device_churn" in row["flags"] for row in rows]
    assert churned == [False] * (CHURN_COUNT - 1) + [True] * 3
    assert all(row["device_hash"] for row in rows)


async def one_phone_on_two_apps(settings, token: str, tries: int) -> list[int]:
    """One phone (one signed cookie) alternating between two app instances on one database. Two apps
    in one process share Piccolo's one engine, which on PostgreSQL is bound to one event loop: there
    two instances are two processes (the live-server test below, with two workers)."""
    value, device = new_device_cookie(settings.secret)
    statuses = []
    first, second = create_app(settings), create_app(settings)
    async with (
        AsyncTestClient(app=first, base_url="http://survey.test") as one,
        AsyncTestClient(app=second, base_url="http://survey.test") as two,
    ):
        one.cookies.set("sv_device", value)
        blank = filled_form((await one.get(f"/s/{token}")).text)
        for k in range(tries):
            client = (one, two)[k % 2]
            client.cookies.set("sv_device", value)
            form = blank | {"_nonce": issue_nonce(settings.secret, token, device_id=device)}
            statuses.append((await client.post(f"/s/{token}", data=form, follow_redirects=False)).status_code)
    return statuses


# Two apps in one process share Piccolo's one engine, bound on PostgreSQL to one event loop: SQLite
# here; on PostgreSQL two instances are two processes (the two-worker live server test below).
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_limits_hold_across_two_app_instances_on_one_database(demo_links, settings):
    token = token_of(link_for(demo_links, "parent", "WQ02"))
    statuses = await one_phone_on_two_apps(settings, token, DEVICE_LIMIT + 4)
    assert statuses.count(303) == DEVICE_LIMIT and statuses.count(429) == 4
    assert len(await stored(settings, token)) == DEVICE_LIMIT


# Two apps in one process share Piccolo's one engine, bound on PostgreSQL to one event loop: SQLite
# here; on PostgreSQL two instances are two processes (the two-worker live server test below).
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_limits_hold_across_two_app_instances_sharing_redis(demo_links, settings, redis_url):
    settings = msgspec.structs.replace(settings, redis_url=redis_url)
    token = token_of(link_for(demo_links, "parent", "WQ04"))
    statuses = await one_phone_on_two_apps(settings, token, DEVICE_LIMIT + 4)
    assert statuses.count(303) == DEVICE_LIMIT and statuses.count(429) == 4
    assert len(await stored(settings, token)) == DEVICE_LIMIT
    import redis

    assert any(key.startswith(b"survey:limit:device:") for key in redis.Redis.from_url(redis_url).keys())


async def test_redis_limits_are_atomic_across_clients(redis_url):
    """Two clients (two workers, two servers) racing for the last slots of one device: exactly the limit."""
    limits = [RedisLimits(redis_url), RedisLimits(redis_url)]

    def attempt(k: int) -> Attempt:
        return Attempt(
            token="tok", survey=1, nonce=f"n{k}", device_hash="d", network_hash="n", agent_hash="a", new_device=False
        )

    try:
        allowed = await asyncio.gather(*(limits[k % 2].allow(attempt(k)) for k in range(40)))
        assert sum(allowed) == DEVICE_LIMIT
        # New devices from one address and browser: counted once each, refused beyond the churn limit.
        churn = [
            Attempt(
                token="t",
                survey=2,
                nonce=f"c{k}",
                device_hash=f"d{k}",
                network_hash="n",
                agent_hash="a",
                new_device=True,
            )
            for k in range(70)
        ]
        from survey_service.respond.quality import CHURN_LIMIT

        assert sum([await limits[k % 2].allow(a) for k, a in enumerate(churn)]) == CHURN_LIMIT
    finally:
        for limit in limits:
            await limit.close()


# Two apps in one process share Piccolo's one engine, bound on PostgreSQL to one event loop: SQLite
# here; on PostgreSQL two instances are two processes (the two-worker live server test below).
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_an_unreachable_redis_leaves_the_limits_to_the_ledger(demo_links, settings):
    settings = msgspec.structs.replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    token = token_of(link_for(demo_links, "parent", "WQ06"))
    statuses = await one_phone_on_two_apps(settings, token, DEVICE_LIMIT + 2)
    assert statuses.count(303) == DEVICE_LIMIT and statuses.count(429) == 2


async def post_all(port: int, token: str, cookie: str, device: str, secret: str, tries: int) -> list[int]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        page = await http.get(f"/s/{token}", headers={"cookie": f"sv_device={cookie}"})
        form = filled_form(page.text)
        forms = [form | {"_nonce": issue_nonce(secret, token, device_id=device)} for _ in range(tries)]
        responses = await asyncio.gather(
            *(http.post(f"/s/{token}", data=f, headers={"cookie": f"sv_device={cookie}"}) for f in forms)
        )
    assert nonce_of(page.text)
    return [r.status_code for r in responses]


def test_limits_hold_across_two_workers_of_a_live_server(demo_links, settings, tmp_path):
    env = {"SURVEY_DATABASE_URL": settings.database_url, "SURVEY_SECRET": settings.secret}
    if settings.signing_key_file:
        env["SURVEY_SIGNING_KEY_FILE"] = settings.signing_key_file
    token = token_of(link_for(demo_links, "parent", "WQ07"))
    value, device = new_device_cookie(settings.secret)
    port = free_port()
    with running(["serve", "--port", str(port), "--workers", "2"], tmp_path, env) as server:
        wait_for_health(port, server)
        statuses = asyncio.run(post_all(port, token, value, device, settings.secret, 40))
    assert max(statuses) < 500, statuses
    assert statuses.count(303) == DEVICE_LIMIT and statuses.count(429) == 40 - DEVICE_LIMIT
    assert len(asyncio.run(stored(settings, token))) == DEVICE_LIMIT
