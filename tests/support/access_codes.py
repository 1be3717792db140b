"""One-time access codes in tests: issued as the bureau's generator stores them (a keyed hash per
code, one batch), on a connection of their own (the app under test runs on another event loop)."""

from __future__ import annotations

from datetime import UTC, datetime

from support.helpers import fetch
from survey_service.distribution.access_codes import code_hash, display, new_code


async def issue(settings, token: str, count: int = 1) -> list[str]:
    """`count` new codes for the link of `token`, as printed ("K7M4-Q9RX")."""
    [link] = await fetch(settings, "SELECT id, survey FROM link WHERE token = ?", token)
    codes = [new_code() for _ in range(count)]
    now = datetime.now(UTC)
    for code in codes:
        await fetch(
            settings,
            "INSERT INTO access_code (survey, link, code_hash, batch, issued_at, voided) VALUES (?, ?, ?, ?, ?, ?)",
            link["survey"],
            link["id"],
            code_hash(settings.secret, code),
            1,
            now if settings.is_postgres else now.isoformat(),
            False,
        )
    return [display(code) for code in codes]
