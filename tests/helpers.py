"""Small helpers the tests share: find a link, read a form page, fill it in."""

from __future__ import annotations

import re

from survey_service.distribution.service import LinkRow


def link_for(links: list[LinkRow], group: str, school_code: str = "WQ01") -> LinkRow:
    county = group in ("deputy", "public")
    return next(l for l in links if l.group == group and (county or l.school_code == school_code))


def nonce_of(html: str) -> str:
    return re.search(r'name="_nonce" value="([^"]+)"', html).group(1)


def radio_items(html: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r'type="radio" name="([a-z_]+)"', html)))


def filled_form(html: str, option: str = "satisfied", **overrides: str) -> dict[str, str]:
    """Every rated item answered with `option`, as a browser would post it."""
    form = {"_nonce": nonce_of(html)} | {item: option for item in radio_items(html)}
    form.update(overrides)
    return form


def token_of(link: LinkRow) -> str:
    return link.url.rsplit("/", 1)[1]


async def fetch(settings, sql: str, *args) -> list[dict]:
    """Read the database on a connection of its own (the app under test runs on another event loop).

    Write `?` placeholders; they become `$1…` on PostgreSQL.
    """
    if settings.is_postgres:
        import asyncpg

        count = iter(range(1, 1000))
        connection = await asyncpg.connect(settings.database_url)
        try:
            return [dict(r) for r in await connection.fetch(re.sub(r"\?", lambda _: f"${next(count)}", sql), *args)]
        finally:
            await connection.close()
    import sqlite3

    with sqlite3.connect(settings.sqlite_path) as connection:
        connection.row_factory = sqlite3.Row
        rows = [dict(r) for r in connection.execute(sql, args)]
    connection.close()
    return rows
