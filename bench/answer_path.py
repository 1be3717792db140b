"""CPU per answer of the answer post without the HTTP server: the ASGI app driven directly by 64
concurrent in-process clients, with the real writer process behind it (SQLite).

bench/submit.py measures the whole server under wrk, on a machine whose speed drifts by ±20%
between runs; this isolates our own code (framework, validation, the socket to the writer and the
writer's commit), so that a change to it shows. Runs three rounds; the lowest is the least disturbed.

    python bench/answer_path.py [--answers 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

import uvloop

SECRET = "bench-secret"
CLIENTS = 64


def http_scope(path: str, body: bytes, cookie: bytes, address: str = "127.0.0.1") -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
            (b"cookie", cookie),
            (b"user-agent", b"Mozilla/5.0 (Linux; Android 10) MicroMessenger/8.0"),
        ],
        "client": (address, 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def drive(app, writer_pid: int, forms: list, answers: int, rounds: int) -> None:
    from common import process_cpu_seconds  # imported by main() already

    statuses: dict[int, int] = {}

    async def post(path: str, body: bytes, cookie: bytes, address: str) -> None:
        async def receive() -> dict:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                statuses[message["status"]] = statuses.get(message["status"], 0) + 1

        await app(http_scope(path, body, cookie, address), receive, send)

    async def run(batch: list) -> None:
        pending = iter(batch)

        async def client() -> None:
            for item in pending:
                await post(*item)

        await asyncio.gather(*(client() for _ in range(CLIENTS)))

    requests = [(path, body.encode(), phone.cookie.encode(), phone.address) for (path, body, _), phone in forms]
    await run(requests[:1000])  # warm-up: links cached, first batches committed
    for r in range(rounds):
        part = requests[1000 + r * answers : 1000 + (r + 1) * answers]
        writer0, web0, wall0 = process_cpu_seconds(writer_pid), time.process_time(), time.perf_counter()
        await run(part)
        web1, writer1, wall1 = time.process_time(), process_cpu_seconds(writer_pid), time.perf_counter()
        print(
            f"round {r + 1}: web {(web1 - web0) / answers * 1e6:.0f} µs/answer, "
            f"writer process {(writer1 - writer0) / answers * 1e6:.0f} µs/answer, "
            f"{answers / (wall1 - wall0):.0f} answers/s"
        )
    if set(statuses) != {303}:
        raise SystemExit(f"not every answer was accepted: {statuses}")


async def serve(app, writer_pid: int, forms: list, answers: int, rounds: int) -> None:
    shutdown = asyncio.Event()
    events = iter([{"type": "lifespan.startup"}])

    async def receive() -> dict:
        try:
            return next(events)
        except StopIteration:
            await shutdown.wait()
            return {"type": "lifespan.shutdown"}

    started = asyncio.Event()

    async def send(message: dict) -> None:
        if message["type"] == "lifespan.startup.complete":
            started.set()

    lifespan = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send))
    await started.wait()
    try:
        await drive(app, writer_pid, forms, answers, rounds)
    finally:
        shutdown.set()
        await lifespan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=5000, help="answers per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from common import answer_forms, demo_database, phones

    os.environ.update(SURVEY_SECRET=SECRET, SURVEY_PUBLIC_URL="http://127.0.0.1:8000")
    db = demo_database("bench-answer-path-")
    os.environ["SURVEY_DATABASE_URL"] = str(db)
    # Each a different phone: its own signed device cookie (its form bound to it) and address.
    senders = phones(SECRET, args.rounds * args.answers + 1000)
    forms = list(
        zip(answer_forms(dict(os.environ), len(senders), SECRET, devices=[p.device for p in senders]), senders)
    )

    from survey_service.ledger.writer_process import WriterProcess

    writer = WriterProcess(str(db), db.parent / "writer.sock", 256)
    os.environ["SURVEY_WRITER_SOCKET"] = str(writer.socket_path)
    writer.start()
    try:
        from survey_service.app import app_from_environment

        # uvloop, as uvicorn uses it when installed (uvicorn[standard])
        uvloop.run(serve(app_from_environment(), writer.pid, forms, args.answers, args.rounds))
    finally:
        writer.stop()


if __name__ == "__main__":
    main()
