"""Recovery and readiness: while answers cannot be committed (the database read-only, the disk full,
PostgreSQL read-only or its connections killed) every answer gets a 503 with Retry-After and a
Chinese page, never a 500; /healthz stays 200 and /readyz says 503; the condition is logged a
handful of times, not once per answer; and once the database takes writes again the service stores
answers again by itself, without a restart. Nothing acknowledged (303) is lost.

The conditions are real, not simulated inside the service:
- read-only: the database's directory is a tmpfs overmounted by a read-only bind mount of itself (the
  EROFS a kernel gives once it remounts a damaged file system read-only); the server starts on it,
  so the writer's connection is opened read-only (SQLite then falls back to a read-only connection
  that stays so, which used to mean 500s until a restart), and the bind mount turns read-write again;
- full disk: the database lives on a 16 MB tmpfs that a filler file fills up, then is removed;
- PostgreSQL: the database set `default_transaction_read_only = on` and every session of it
  terminated (pg_terminate_backend), then set back.
Mounting needs root with CAP_SYS_ADMIN: the SQLite tests are skipped where mounting is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from support.helpers import POSTGRES_URL
from survey_service.core.errors import StorageUnavailable
from survey_service.db.engine import current_engine
from survey_service.ledger.store import response_store
from survey_service.ledger.writer import ResponseWriter
from survey_service.respond.schemas import AnswerRow

BENCH = Path(__file__).resolve().parents[2] / "bench"
SECRET = "recovery-test-secret"
# Lines a condition may log in all (writer process and web worker: it starts, it clears), however
# many answers it refuses.
MAX_LOG_LINES = 8


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


@contextlib.contextmanager
def tmpfs(directory: Path, size: str) -> Iterator[Path]:
    directory.mkdir()
    try:
        _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory))
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("mounting a tmpfs is not permitted here (needs root with CAP_SYS_ADMIN)")
    try:
        yield directory
    finally:
        # Lazily: the bind mount of `read_only` (if any) and the tmpfs, whatever still holds them.
        while subprocess.run(["umount", "-l", str(directory)], capture_output=True).returncode == 0:
            pass


def read_only(directory: Path) -> None:
    """From now on, opening a file in `directory` for writing fails with EROFS."""
    _mount("--bind", str(directory), str(directory))
    _mount("-o", "remount,ro,bind", str(directory))


def writable_again(directory: Path) -> None:
    _mount("-o", "remount,rw,bind", str(directory))


def _bench():
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    import common

    return common


class Server:
    """`survey-service serve` (one web worker beside the SQLite writer process), its log in a file."""

    def __init__(self, env: dict, log: Path):
        common = _bench()
        self.port = common.free_port()
        self.log = log
        with log.open("w") as out:
            self.process = subprocess.Popen(
                common.serve_command(self.port), env=env, stdout=out, stderr=out, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while self.get("/healthz") is None:
            assert self.process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)

    def get(self, path: str) -> httpx.Response | None:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}{path}", timeout=10)
        except httpx.HTTPError:
            return None

    def post(self, form: tuple[str, str, str]) -> httpx.Response:
        path, body, nonce = form
        return httpx.post(f"http://127.0.0.1:{self.port}{path}", content=body, headers=_phone(nonce), timeout=60)

    def post_many(self, forms: list[tuple[str, str, str]], clients: int = 8) -> list[httpx.Response]:
        async def run() -> list[httpx.Response]:
            headers = {"content-type": "application/x-www-form-urlencoded"}
            limits = httpx.Limits(max_connections=clients)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}", limits=limits, timeout=60) as http:
                return await asyncio.gather(
                    *(http.post(path, content=body, headers=headers | _phone(nonce)) for path, body, nonce in forms)
                )

        return asyncio.run(run())

    def log_lines(self) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if line.strip()]

    def stop(self) -> None:
        os.killpg(self.process.pid, 15)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait()


# The phone each form was opened on, by its nonce (see _demo).
PHONES: dict = {}


def _phone(nonce: str) -> dict[str, str]:
    phone = PHONES[nonce]
    return {
        "content-type": "application/x-www-form-urlencoded",
        "cookie": phone.cookie,
        "x-forwarded-for": phone.address,
    }


def _demo(directory: Path) -> tuple[dict, list[tuple[str, str, str]]]:
    database = directory / "survey.db"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SURVEY_")},
        "SURVEY_DATABASE_URL": str(database),
        "SURVEY_SECRET": SECRET,
        "SURVEY_PUBLIC_URL": "http://recovery.test",
    }
    common = _bench()
    env |= common.PROXY_ENV
    common.cli("demo", "--no-serve", "--empty", env=env)
    # Each answer from a phone of its own (its signed cookie, its address), as the field sends them:
    # four hundred new devices from one address and browser would rightly be refused as churn.
    phones = common.phones(SECRET, 400)
    forms = common.answer_forms(env, 400, SECRET, devices=[phone.device for phone in phones])
    PHONES.update({nonce: phone for (_, _, nonce), phone in zip(forms, phones)})
    return env, forms


def _stored(env: dict) -> list[str]:
    with contextlib.closing(sqlite3.connect(env["SURVEY_DATABASE_URL"])) as connection:
        return [nonce for (nonce,) in connection.execute("SELECT nonce FROM response")]


def _assert_busy_page(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text[:300]
    assert response.headers["retry-after"] == "30"
    assert "系统繁忙" in response.text and "答卷暂未保存" in response.text


def _until(condition, seconds: float = 30) -> float:
    """Seconds until `condition()` holds (polled every 50 ms)."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < seconds, "not within the time allowed"
        time.sleep(0.05)
    return time.monotonic() - start


def _verify(env: dict) -> None:
    run = subprocess.run([sys.executable, "-m", "survey_service", "verify"], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_server_started_on_a_read_only_database_stores_answers_once_it_is_writable(tmp_path):
    directory = tmp_path / "db"
    with tmpfs(directory, "64m"):
        env, forms = _demo(directory)
        # A reader keeps the WAL's files in place (a WAL database whose -shm cannot be made cannot
        # be read either): the database is read-only, not gone.
        reader = sqlite3.connect(env["SURVEY_DATABASE_URL"])
        reader.execute("SELECT count(*) FROM response").fetchone()
        read_only(directory)
        server = Server(env, tmp_path / "server.log")
        try:
            before = len(server.log_lines())
            assert server.get("/healthz").status_code == 200  # alive: a liveness check only
            ready = server.get("/readyz")
            assert ready.status_code == 503 and "read-only" in ready.json()["reason"]
            refused = server.post_many(forms[:100])
            for response in refused:
                _assert_busy_page(response)
            during = server.log_lines()[before:]
            assert len(during) <= MAX_LOG_LINES and not any("Traceback" in line for line in during), during

            writable_again(directory)
            cleared = time.monotonic()
            # Answers are tried for real: the first after the spell is stored (a new connection).
            assert server.post(forms[100]).status_code == 303
            stored_after = time.monotonic() - cleared
            ready_after = _until(lambda: server.get("/readyz").status_code == 200)
            accepted = server.post_many(forms[:100] + forms[101:200])  # the refused ones, sent again
            assert {response.status_code for response in accepted} == {303}
            lines = server.log_lines()[before:]
        finally:
            server.stop()
            reader.close()
        print(f"read-only: stored again {stored_after:.2f} s after, ready {ready_after:.2f} s; log: {lines}")
        assert stored_after < 2 and ready_after < 5
        assert any("stored again" in line for line in lines)
        assert len(lines) <= MAX_LOG_LINES
        assert sorted(_stored(env)) == sorted(nonce for _, _, nonce in forms[:200])
        _verify(env)


def test_a_full_disk_refuses_answers_with_503_and_they_are_stored_once_space_is_free(tmp_path):
    directory = tmp_path / "db"
    with tmpfs(directory, "16m"):
        env, forms = _demo(directory)
        server = Server(env, tmp_path / "server.log")
        filler = directory / "filler"
        try:
            first = server.post_many(forms[:20])
            assert {response.status_code for response in first} == {303}
            before = len(server.log_lines())
            # Fill the file system up. Unbuffered: a buffered file would try to flush its last
            # partial block again on close and raise there.
            with filler.open("wb", buffering=0) as out, contextlib.suppress(OSError):
                while out.write(b"\0" * 65536):
                    pass
            outcomes = server.post_many(forms[20:320])
            statuses = [response.status_code for response in outcomes]
            # Stored while the WAL's own space lasted, then refused: never a 500.
            assert set(statuses) <= {303, 503} and statuses.count(503) > 100, statuses
            for response in outcomes:
                if response.status_code == 503:
                    _assert_busy_page(response)
            acknowledged = {nonce for (_, _, nonce), s in zip(forms[20:320], statuses) if s == 303}
            assert server.get("/readyz").status_code == 503
            assert server.get("/healthz").status_code == 200
            during = server.log_lines()[before:]
            assert len(during) <= MAX_LOG_LINES and not any("Traceback" in line for line in during), during

            filler.unlink()
            # No answer arrives: the writer's probe (every second) sees the space, then /readyz.
            ready_after = _until(lambda: server.get("/readyz").status_code == 200)
            stored_after = _until(lambda: server.post(forms[320]).status_code == 303)
            again = server.post_many(forms[20:320])  # every refused one sent again (stored ones: 303 too)
            assert {response.status_code for response in again} == {303}
            lines = server.log_lines()[before:]
        finally:
            server.stop()
        print(
            f"full disk: {statuses.count(503)} refused, stored again {stored_after:.2f} s after, "
            f"ready {ready_after:.2f} s after; log: {lines}"
        )
        assert ready_after < 5 and stored_after < 1
        assert len(lines) <= MAX_LOG_LINES
        stored = _stored(env)
        assert len(stored) == len(set(stored)) == 321
        assert acknowledged <= set(stored)
        _verify(env)


def a_response(link_row) -> AnswerRow:
    return AnswerRow(
        survey=link_row.survey,
        link=1,
        school=1,
        respondent_group="parent",
        questionnaire_id="social",
        questionnaire_version="test",
        answers='{"overall": "satisfied"}',
        choices="0",
        recognition=1.0,
        score=100.0,
        submitted_at=datetime.now(UTC),
        seconds_taken=60,
        nonce=uuid.uuid4().hex,
        valid=True,
        exclusion="",
        flags="",
        device_hash=None,
        network_hash=None,
        agent_hash=None,
    )


async def _until_stored(writer: ResponseWriter, link_row, seconds: float = 10) -> tuple[float, int]:
    """Seconds until an answer is stored again, and how many were refused (503) before it."""
    start, refused = time.monotonic(), 0
    while True:
        try:
            assert await writer.write(a_response(link_row))
            return time.monotonic() - start, refused
        except StorageUnavailable:
            refused += 1
            assert time.monotonic() - start < seconds, "not stored again in time"
            await asyncio.sleep(0.05)


@pytest.mark.skipif(not POSTGRES_URL, reason="needs SURVEY_TEST_POSTGRES_URL (always set in CI)")
@pytest.mark.parametrize("backend", ["postgres"])
async def test_postgres_read_only_and_killed_connections_then_recovery(backend, database, demo_links, caplog):
    name = database.database_url.rsplit("/", 1)[1]
    kill_sessions = (
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()"
    )
    admin = await asyncpg.connect(POSTGRES_URL)
    writer = ResponseWriter(response_store(current_engine()), batch_size=64)
    await writer.start()
    link = demo_links[0]
    try:
        assert await writer.write(a_response(link))
        # Every session of the database killed (a restart, a failover, an operator): the pool opens new ones.
        assert await admin.fetchval(kill_sessions, name) >= 1
        reconnected, _ = await _until_stored(writer, link)

        caplog.clear()
        await admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        await admin.fetchval(kill_sessions, name)  # the setting holds for sessions opened from now on
        # The first answers may meet a killed session (the server cannot be reached), then the
        # pool's new sessions are read-only.
        while True:
            with pytest.raises(StorageUnavailable) as refused:
                await writer.write(a_response(link))
            if refused.value.reason == "the database is read-only":
                break
        outcomes = await asyncio.gather(*(writer.write(a_response(link)) for _ in range(200)), return_exceptions=True)
        assert {outcome.reason for outcome in outcomes if isinstance(outcome, StorageUnavailable)} == {
            "the database is read-only"
        }
        assert len(outcomes) == 200 and all(isinstance(outcome, StorageUnavailable) for outcome in outcomes)
        for _ in range(20):  # answers one at a time, as phones send them
            with pytest.raises(StorageUnavailable):
                await writer.write(a_response(link))
        assert await writer.check() == "the database is read-only"
        during = [record.getMessage() for record in caplog.records if record.name.startswith("survey_service")]
        # One line (two if a killed session was met first), not one per answer.
        assert 1 <= len(during) <= 2 and "read-only" in during[-1], during

        await admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off')
        # The sessions opened while it was read-only stay so: the store replaces them after a failure.
        stored_after, _ = await _until_stored(writer, link)
        ready_after = 0.0
        start = time.monotonic()
        while await writer.check() is not None:
            await asyncio.sleep(0.05)
        ready_after = time.monotonic() - start
        lines = [record.getMessage() for record in caplog.records if record.name.startswith("survey_service")]
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off')
        await admin.close()
        await writer.stop()
    print(
        f"postgres: reconnected {reconnected:.2f} s; read-only cleared: stored {stored_after:.2f} s, ready {ready_after:.2f} s; log: {lines}"
    )
    assert reconnected < 2 and stored_after < 2 and ready_after < 2
    assert len(lines) <= 3 and "stored again" in lines[-1] and "answers were refused" in lines[-1], lines
