"""Crash safety: kill the server with SIGKILL mid-stream; every acknowledged answer must be stored once.

    python bench/crash.py [--database sqlite|postgres] [--acknowledged 2000] [--clients 32]

Starts `survey-service serve` on a fresh demo database (SQLite file, or a fresh PostgreSQL database
with two workers), posts valid answer forms from many concurrent clients, SIGKILLs the server's
whole process group once enough answers are acknowledged (303 to the thank-you page), restarts it,
retries the answers whose fate the clients never learnt (the same nonce, as a phone would on
reload), and checks the database: no acknowledged answer missing, none stored twice, the hash chain
intact. tests/test_crash.py runs the same on a small scale.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from common import (
    PROXY_ENV,
    answer_forms,
    cli,
    free_port,
    fresh_database,
    kill,
    phones,
    serve_command,
    start_server,
)

SECRET = "crash-test-secret"


@dataclass
class Outcome:
    acknowledged: set[str] = field(default_factory=set)
    unknown: dict[str, tuple] = field(default_factory=dict)  # nonce -> (path, body, phone)
    refused: int = 0


async def submit_until_killed(
    port: int, forms: list, clients: int, kill_after: int, server: subprocess.Popen
) -> Outcome:
    outcome = Outcome()
    queue = list(reversed(forms))
    killed = asyncio.Event()

    async def client(http: httpx.AsyncClient) -> None:
        while queue and not killed.is_set():
            path, body, nonce, phone = queue.pop()
            try:
                response = await http.post(
                    path,
                    content=body,
                    headers={
                        "content-type": "application/x-www-form-urlencoded",
                        "cookie": phone.cookie,
                        "x-forwarded-for": phone.address,
                    },
                )
            except httpx.HTTPError:
                outcome.unknown[nonce] = (path, body, phone)
                continue
            if response.status_code == 303:
                outcome.acknowledged.add(nonce)
                if len(outcome.acknowledged) >= kill_after and not killed.is_set():
                    killed.set()
                    kill(server)
            else:
                outcome.refused += 1

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    return outcome


async def retry(port: int, unknown: dict[str, tuple]) -> dict[int, int]:
    """A phone that never heard back submits the same form again: stored once either way."""
    statuses: dict[int, int] = {}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        for path, body, phone in unknown.values():
            response = await http.post(
                path,
                content=body,
                headers={
                    "content-type": "application/x-www-form-urlencoded",
                    "cookie": phone.cookie,
                    "x-forwarded-for": phone.address,
                },
            )
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    return statuses


def stored_nonces(database_url: str) -> list[str]:
    if database_url.startswith("postgresql://"):

        async def read() -> list[str]:
            connection = await asyncpg.connect(database_url)
            try:
                return [row["nonce"] for row in await connection.fetch("SELECT nonce FROM response")]
            finally:
                await connection.close()

        return asyncio.run(read())
    with sqlite3.connect(database_url) as connection:
        return [nonce for (nonce,) in connection.execute("SELECT nonce FROM response")]


def run_crash(kind: str, acknowledged: int, clients: int, directory: Path) -> dict:
    database_url, drop = fresh_database(kind, directory, "crash")
    try:
        env = {
            **os.environ,
            **PROXY_ENV,
            "SURVEY_DATABASE_URL": database_url,
            "SURVEY_SECRET": SECRET,
            "SURVEY_PUBLIC_URL": "http://crash.test",
        }
        cli("demo", "--no-serve", "--empty", env=env)
        # Each a different phone: its own signed device cookie (its form bound to it) and address.
        senders = phones(SECRET, acknowledged * 3)
        forms = [
            (*form, phone)
            for form, phone in zip(
                answer_forms(env, len(senders), SECRET, devices=[p.device for p in senders]), senders
            )
        ]
        workers = 2 if kind == "postgres" else 1
        port = free_port()
        server = start_server(serve_command(port, workers), env, port)
        outcome = asyncio.run(submit_until_killed(port, forms, clients, acknowledged, server))
        server = start_server(serve_command(port, workers), env, port)
        try:
            retried = asyncio.run(retry(port, outcome.unknown))
        finally:
            server.terminate()
            server.wait(timeout=30)
        nonces = stored_nonces(database_url)
        verified = subprocess.run(
            [sys.executable, "-m", "survey_service", "verify"], env=env, capture_output=True, text=True
        )
        return {
            "database": kind,
            "acknowledged": len(outcome.acknowledged),
            "in_flight_at_kill": len(outcome.unknown),
            "retried": retried,
            "refused": outcome.refused,
            "stored": len(nonces),
            "acknowledged_missing": len(outcome.acknowledged - set(nonces)),
            "stored_twice": len(nonces) - len(set(nonces)),
            "chain_intact": verified.returncode == 0,
        }
    finally:
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--acknowledged", type=int, default=2000, help="kill once this many answers are acknowledged")
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        result = run_crash(args.database, args.acknowledged, args.clients, Path(directory))
    print(json.dumps(result, ensure_ascii=False, indent=2))
    ok = result["acknowledged_missing"] == 0 and result["stored_twice"] == 0 and result["chain_intact"]
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
