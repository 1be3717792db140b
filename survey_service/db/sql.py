"""Placeholders for the raw SQL the hot write path runs on both backends."""

from __future__ import annotations

import re


def marks(count: int) -> str:
    """`count` question-mark placeholders: "?, ?, ?"."""
    return ", ".join("?" * count)


def numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's $1, $2, …"""
    counter = iter(range(1, 1_000_000))
    return re.sub(r"\?", lambda _: f"${next(counter)}", sql)
