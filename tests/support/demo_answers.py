"""Answers stored straight into a running demo's SQLite database (the browser tests' rounds)."""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor

from support.helpers import insert_responses
from support.planned_answers import COLUMNS
from survey_service.core.settings import Settings


def demo_links(database: str) -> tuple[int, dict[tuple[str, str | None], tuple[int, int | None]]]:
    """The demo round's id and its links by (group, school code or None): (link id, school id)."""
    with sqlite3.connect(database) as db:
        found = db.execute(
            "SELECT link.id, link.school, school.code, link.respondent_group, link.survey "
            "FROM link LEFT JOIN school ON school.id = link.school"
        ).fetchall()
    db.close()
    return found[0][4], {(grp, code): (link, school) for link, school, code, grp, _ in found}


def store_rows(database: str, rows: list[list[object]]) -> None:
    """In a thread of its own: the caller may run while a test's event loop is running."""
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, insert_responses(Settings(database_url=database), COLUMNS, rows)).result()
