"""The SQLite writer process alone: CPU per stored answer, fed prebuilt rows over its socket.

Two in-process clients send batches of 32 rows (as one web worker's batches look under load) to a
real writer process on a fresh demo database; three rounds of 10,000 rows each follow a warm-up, so
the later rounds show how the cost grows with the table.

    python bench/writer.py [--rows 10000] [--batch 32]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from survey_service.respond.schemas import AnswerRow

CLIENTS = 2


def a_row(link: tuple[int, int, int | None, str], scored: Scored) -> AnswerRow:
    """One valid answer as the web worker sends it (the same answers each time; nonce, device and address new)."""
    from survey_service.respond.schemas import AnswerRow

    survey, link_id, school, group = link
    return AnswerRow(
        survey=survey,
        link=link_id,
        school=school,
        respondent_group=group,
        questionnaire_id=scored.questionnaire.id,
        questionnaire_version=scored.questionnaire.version,
        answers=scored.answers,
        recognition=scored.recognition,
        score=scored.score,
        choices=scored.choices,
        submitted_at=datetime.now(UTC),
        seconds_taken=60,
        nonce=secrets.token_urlsafe(40),
        valid=True,
        exclusion="",
        flags="",
        device_hash=uuid.uuid4().hex,
        # Each its own address: rows from one address and browser on ever new devices are, rightly,
        # refused as device churn after a few (respond/quality.py), and a refused row costs little.
        network_hash=uuid.uuid4().hex,
        agent_hash="cd" * 16,
    )


class Scored:
    """A parent's answers to the shipped 社会卷, checked and scored as the service does."""

    def __init__(self):
        import msgspec

        from survey_service.core.resources import questionnaires_dir
        from survey_service.questionnaire import load_questionnaires
        from survey_service.respond.answers import check_answers

        self.questionnaire = load_questionnaires(questionnaires_dir())["social"]
        codes = [option.code for option in self.questionnaire.scale]
        given = {item.id: codes[i % 3] for i, item in enumerate(self.questionnaire.rated_items)}
        checked = check_answers(self.questionnaire, given)
        self.answers = msgspec.json.encode(checked.answers).decode()
        self.recognition, self.score, self.choices = checked.recognition, checked.score, checked.choices


async def drive(socket_path: str, writer_pid: int, links: list, rows: int, batch: int) -> None:
    from common import process_cpu_seconds  # imported by main() already

    from survey_service.ledger.writer_process import RemoteResponseStore

    scored = Scored()

    stores = [RemoteResponseStore(socket_path) for _ in range(CLIENTS)]

    async def client(store, count: int) -> None:
        for start in range(0, count, batch):
            await store.insert([a_row(links[(start + i) % len(links)], scored) for i in range(batch)])

    await asyncio.gather(*(client(store, 2_000) for store in stores))
    for r in range(3):
        cpu0, wall0 = process_cpu_seconds(writer_pid), time.perf_counter()
        await asyncio.gather(*(client(store, rows) for store in stores))
        cpu1, wall1 = process_cpu_seconds(writer_pid), time.perf_counter()
        print(
            f"round {r + 1}: writer process {(cpu1 - cpu0) / (CLIENTS * rows) * 1e6:.0f} µs per row, "
            f"{CLIENTS * rows / (wall1 - wall0):.0f} rows/s"
        )
    for store in stores:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="rows per client per round")
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    from common import demo_database, parent_links

    db = demo_database("bench-writer-")
    links = parent_links(db)

    from survey_service.ledger.writer_process import WriterProcess

    writer = WriterProcess(str(db), db.parent / "writer.sock", 256)
    writer.start()
    try:
        asyncio.run(drive(str(writer.socket_path), writer.pid, links, args.rows, args.batch))
    finally:
        writer.stop()


if __name__ == "__main__":
    main()
